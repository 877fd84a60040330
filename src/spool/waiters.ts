/**
 * Small promise plumbing shared by the spools: appends blocked on space (FIFO, so records keep their
 * arrival order even under back-pressure) and the one reader waiting for data.
 */
import { EdgebridgeError } from '../errors.js'

export function abortedError(): EdgebridgeError {
  return new EdgebridgeError('ABORTED', 'spool append aborted while waiting for space')
}

export function closedError(): EdgebridgeError {
  return new EdgebridgeError('SPOOL_CLOSED', 'spool is closed')
}

/**
 * Appends waiting for room, served strictly in arrival order: a small record never overtakes a big
 * one that arrived first, because seq (and so FIFO order) is assigned only when a waiter is admitted.
 */
export class SpaceQueue<T> {
  private readonly waiters: { item: T; resolve(item: T): void; reject(err: unknown): void }[] = []

  get length(): number {
    return this.waiters.length
  }

  /** The item at the head of the queue (next to be admitted). */
  peek(): T | undefined {
    return this.waiters[0]?.item
  }

  /** Resolves with `item` once `admitWhile` admits it; rejects on abort or `failAll`. */
  wait(item: T, signal: AbortSignal | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortedError())
        return
      }
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(abortedError())
      }
      const waiter = {
        item,
        resolve: (v: T) => {
          signal?.removeEventListener('abort', onAbort)
          resolve(v)
        },
        reject: (err: unknown) => {
          signal?.removeEventListener('abort', onAbort)
          reject(err)
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(waiter)
    })
  }

  /** Admit waiters from the head while `fits(head)`; the admitted promise resolves after `admit` ran. */
  admitWhile(fits: (item: T) => boolean, admit: (item: T) => void): void {
    while (this.waiters.length > 0 && fits(this.waiters[0]!.item)) {
      const w = this.waiters.shift()!
      try {
        admit(w.item)
        w.resolve(w.item)
      } catch (err) {
        w.reject(err)
      }
    }
  }

  failAll(err: unknown): void {
    for (const w of this.waiters.splice(0)) w.reject(err)
  }
}

/** The single reader's wait for data: resolves true when woken, false on abort or close. */
export class DataSignal {
  private waiter: ((woken: boolean) => void) | undefined

  wait(signal: AbortSignal | undefined): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false)
    return new Promise<boolean>((resolve) => {
      const onAbort = (): void => {
        if (this.waiter === settle) this.waiter = undefined
        resolve(false)
      }
      const settle = (woken: boolean): void => {
        signal?.removeEventListener('abort', onAbort)
        resolve(woken)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      // One reader by contract; a second concurrent read replaces the first, which is told to stop.
      this.waiter?.(false)
      this.waiter = settle
    })
  }

  notify(): void {
    const w = this.waiter
    this.waiter = undefined
    w?.(true)
  }

  close(): void {
    const w = this.waiter
    this.waiter = undefined
    w?.(false)
  }
}
