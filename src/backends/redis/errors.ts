/**
 * The one place where ioredis errors become BackendErrors.
 *
 * Retriable: the server is unreachable or not ready (connection refused/reset, not connected, timeouts,
 * LOADING, BUSY, MASTERDOWN, READONLY after a failover, OOM that a consumer may relieve). Not retriable:
 * wrong credentials or missing permissions (WRONGPASS, NOAUTH, NOPERM) and replies that say the command
 * itself is wrong (WRONGTYPE, ERR syntax): sending the same batch again gives the same answer.
 */
import { BackendError, EdgebridgeError, errorMessage } from '../../errors.js'

const RETRIABLE_REPLY_PREFIXES = [
  'LOADING',
  'BUSY',
  'MASTERDOWN',
  'READONLY',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'OOM',
]
const AUTH_REPLY_PREFIXES = ['WRONGPASS', 'NOAUTH', 'NOPERM', 'ERR AUTH', 'ERR invalid password']
/** Errors ioredis raises itself (not the server) while it has no usable connection. */
const CONNECTION_MESSAGES = [
  "Stream isn't writeable",
  'Connection is closed',
  'Command timed out',
  'Reached the max retries per request limit',
  'connect ETIMEDOUT',
]

export function isRedisAuthError(err: unknown): boolean {
  const message = errorMessage(err)
  return AUTH_REPLY_PREFIXES.some((p) => message.startsWith(p))
}

export function toBackendError(err: unknown, what: string): EdgebridgeError {
  if (err instanceof EdgebridgeError) return err
  const message = errorMessage(err)
  const detail = `${what}: ${message}`
  if (isRedisAuthError(err)) return new BackendError('BACKEND_AUTH', detail, { cause: err })
  const code = (err as { code?: unknown } | null)?.code
  const isReply = (err as { name?: unknown } | null)?.name === 'ReplyError'
  if (isReply) {
    const retriable = RETRIABLE_REPLY_PREFIXES.some((p) => message.startsWith(p))
    return new BackendError(retriable ? 'BACKEND_UNAVAILABLE' : 'BACKEND_REJECTED', detail, {
      retriable,
      cause: err,
    })
  }
  if (typeof code === 'string' || CONNECTION_MESSAGES.some((m) => message.includes(m))) {
    // ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT, ENOTFOUND (DNS may come back), TLS handshake failures
    return new BackendError('BACKEND_UNAVAILABLE', detail, { retriable: true, cause: err })
  }
  return new BackendError('BACKEND_UNKNOWN', detail, { retriable: true, cause: err })
}
