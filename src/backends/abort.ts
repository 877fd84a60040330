/**
 * Stop waiting for the core when shutdown aborts a send: the batch stays in the spool. Shared by
 * every backend, so ABORTED means the same thing everywhere.
 */
import { EdgebridgeError } from '../errors.js'

export function abortedError(): EdgebridgeError {
  return new EdgebridgeError('ABORTED', 'send aborted by shutdown; the batch stays in the spool')
}

/** Resolves or rejects like `promise`, or rejects with ABORTED as soon as `signal` aborts. */
export async function withAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) {
    promise.catch(() => undefined)
    throw abortedError()
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError())
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}
