/**
 * The audit's two ways to fail before it can judge anything, each with its exit code (sysexits.h):
 * the core cannot be reached (69, EX_UNAVAILABLE), or what it was asked to read does not exist: a
 * topic, a stream, a ledger file (66, EX_NOINPUT). The codes live in config/exit-code.ts.
 */
import { BackendError, EdgebridgeError, errorMessage } from '../errors.js'

/** A topic, stream or ledger that is not there. */
export class AuditInputError extends EdgebridgeError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('AUDIT_INPUT_MISSING', message, options)
    this.name = 'AuditInputError'
  }
}

export function coreUnreachable(what: string, cause: unknown): BackendError {
  return new BackendError('BACKEND_UNAVAILABLE', `cannot reach ${what}: ${errorMessage(cause)}`, {
    cause,
    retriable: true,
  })
}
