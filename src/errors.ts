/**
 * Every error edgebridge raises on purpose is an EdgebridgeError with a stable `code`.
 *
 * - `code` is documented in docs/errors.md and never reused for another meaning.
 * - `retriable` tells the forwarder's retrier whether sending the same batch again can succeed
 *   (a core that is down: yes; a payload the core will never accept: no). Programming errors
 *   (TypeError, RangeError) are never EdgebridgeErrors and are never retried as if transient.
 * - `cause` keeps the client library's original error for the log.
 *
 * Backends map their client library's errors in one place each (backends/<name>/errors.ts).
 */

export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'LISTEN_ADDRESS_IN_USE'
  | 'LISTEN_FAILED'
  | 'HTTP_ADDRESS_IN_USE'
  | 'SPOOL_FULL'
  | 'SPOOL_CLOSED'
  | 'SPOOL_IO'
  | 'BACKEND_UNAVAILABLE'
  | 'BACKEND_REJECTED'
  | 'BACKEND_UNCONFIRMED'
  | 'BACKEND_AUTH'
  | 'BACKEND_CLOSED'
  | 'BACKEND_UNKNOWN'
  | 'PUBLISH_DENIED'
  | 'INGRESS_STOPPED'
  | 'AUTH_FILE_INVALID'
  | 'ACL_FILE_INVALID'
  | 'ABORTED'
  | 'AUDIT_INPUT_MISSING'

export interface EdgebridgeErrorOptions {
  retriable?: boolean
  cause?: unknown
}

export class EdgebridgeError extends Error {
  readonly code: ErrorCode
  readonly retriable: boolean

  constructor(code: ErrorCode, message: string, options: EdgebridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'EdgebridgeError'
    this.code = code
    this.retriable = options.retriable ?? false
  }
}

/** A configuration value failed validation; main exits with EX_CONFIG (78). */
export class ConfigError extends EdgebridgeError {
  constructor(message: string, options: EdgebridgeErrorOptions = {}) {
    super('CONFIG_INVALID', message, options)
    this.name = 'ConfigError'
  }
}

/** The spool refused an append because it is full and the policy is `drop-newest`. */
export class SpoolFullError extends EdgebridgeError {
  constructor(message: string, options: EdgebridgeErrorOptions = {}) {
    super('SPOOL_FULL', message, { retriable: true, ...options })
    this.name = 'SpoolFullError'
  }
}

/** A core (Kafka, NATS, Redis) did not confirm a batch; `retriable` says whether to try again. */
export class BackendError extends EdgebridgeError {
  constructor(
    code: Extract<ErrorCode, `BACKEND_${string}`>,
    message: string,
    options: EdgebridgeErrorOptions = {},
  ) {
    super(code, message, options)
    this.name = 'BackendError'
  }
}

/** True for errors that say the program itself is wrong: never retried as if the network were at fault. */
export function isProgrammingError(err: unknown): boolean {
  return (
    err instanceof TypeError ||
    err instanceof RangeError ||
    err instanceof SyntaxError ||
    err instanceof ReferenceError
  )
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
