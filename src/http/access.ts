/**
 * Who may read the HTTP listener. The rule is the MQTT listeners' rule (config/schema/http.ts):
 * loopback is open to this machine; off loopback a bearer token or a verified TLS client certificate
 * is required, unless `http.allowAnonymous` says the network is trusted. /healthz and /readyz stay
 * open to everyone: a load balancer or a probe must reach them, and they tell nothing private.
 */
import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { HttpConfig } from '../config/types.js'
import { isLoopbackHost } from '../ingress/listeners/connection-info.js'

/** Paths anyone may read, whatever the protection. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz'])

export interface AccessRule {
  /** True when the request may read `path`. */
  allows(request: IncomingMessage, path: string): boolean
}

export function accessRule(config: HttpConfig, token: string | undefined): AccessRule {
  const open =
    config.allowAnonymous || (isLoopbackHost(config.host) && token === undefined && config.tls.caFile === '')
  const expected = token === undefined ? undefined : Buffer.from(`Bearer ${token}`)
  const certificates = config.tls.caFile !== ''
  return {
    allows(request, path) {
      if (open || OPEN_PATHS.has(path)) return true
      if (expected !== undefined) {
        const given = Buffer.from(request.headers.authorization ?? '')
        if (given.length === expected.length && timingSafeEqual(given, expected)) return true
      }
      if (certificates && (request.socket as TLSSocket).authorized === true) return true
      return false
    },
  }
}
