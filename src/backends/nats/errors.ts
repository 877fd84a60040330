/**
 * The one place where nats.js (core and JetStream) errors become BackendErrors.
 *
 * Retriable: no connection, connection closed or draining, timeouts, a JetStream API answer with a 5xx
 * status or a full stream (a consumer or the limits may free space). Not retriable: authentication and
 * permission violations, invalid subjects, payloads over the server's max_payload, no stream capturing
 * the subject, and other JetStream API rejections: sending the same batch again gives the same answer.
 * BACKEND_REJECTED means "this record can never be taken" (the forwarder dead-letters it); a core
 * whose configuration is missing something (no stream) is BACKEND_UNAVAILABLE, not retriable.
 */
import { JetStreamApiError } from '@nats-io/jetstream'
import { errors } from '@nats-io/transport-node'
import { BackendError, EdgebridgeError, errorMessage } from '../../errors.js'

/** JetStream API error codes that can clear on their own: stream full (messages, bytes), storage. */
const RETRIABLE_JS_CODES = new Set([10077, 10078, 10047, 10023])

export function isNatsAuthError(err: unknown): boolean {
  return (
    err instanceof errors.AuthorizationError ||
    err instanceof errors.UserAuthenticationExpiredError ||
    err instanceof errors.PermissionViolationError
  )
}

export function toBackendError(err: unknown, what: string): EdgebridgeError {
  if (err instanceof EdgebridgeError) return err
  const detail = `${what}: ${errorMessage(err)}`
  if (isNatsAuthError(err)) return new BackendError('BACKEND_AUTH', detail, { cause: err })
  if (err instanceof errors.InvalidSubjectError || err instanceof errors.InvalidArgumentError) {
    // InvalidArgumentError is what publish throws for a payload over the server's max_payload.
    return new BackendError('BACKEND_REJECTED', detail, { cause: err })
  }
  // JetStreamNotEnabled is not exported by @nats-io/jetstream's public entry point: known by its name.
  if (err instanceof Error && err.name === 'JetStreamNotEnabled') {
    // nats.js reports "no responders" on a JetStream publish this way: no stream captures the subject.
    // That is the core's configuration, not the record's fault: not retriable (the forwarder waits at
    // its longest interval), but not BACKEND_REJECTED either, which would dead-letter good records.
    return new BackendError(
      'BACKEND_UNAVAILABLE',
      `${detail} (no stream captures the subject, or JetStream is off)`,
      {
        cause: err,
      },
    )
  }
  if (err instanceof JetStreamApiError) {
    const retriable = err.status >= 500 || RETRIABLE_JS_CODES.has(err.code)
    return new BackendError(retriable ? 'BACKEND_UNAVAILABLE' : 'BACKEND_REJECTED', detail, {
      retriable,
      cause: err,
    })
  }
  if (
    err instanceof errors.ConnectionError ||
    err instanceof errors.ClosedConnectionError ||
    err instanceof errors.DrainingConnectionError ||
    err instanceof errors.TimeoutError ||
    err instanceof errors.RequestError ||
    err instanceof errors.ProtocolError ||
    typeof (err as { code?: unknown } | null)?.code === 'string' // ECONNREFUSED and other socket errors
  ) {
    return new BackendError('BACKEND_UNAVAILABLE', detail, { retriable: true, cause: err })
  }
  return new BackendError('BACKEND_UNKNOWN', detail, { retriable: true, cause: err })
}
