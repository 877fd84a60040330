/**
 * What the listener knows about a connection that aedes does not: which listener accepted it, the
 * peer address, and the verified TLS client certificate's CN. The authenticator reads it when the
 * CONNECT arrives (`connectionInfo(client.conn)`); it is keyed by the stream handed to broker.handle.
 */
import type { ListenerType } from '../../config/types.js'

export interface ConnectionInfo {
  /** `type://host:port` of the accepting listener, for logs. */
  listener: string
  type: ListenerType
  /** The listener's anonymous policy, decided at start (auth/anonymous-policy.ts). */
  allowAnonymous: boolean
  useIdentityAsUsername: boolean
  remoteAddress: string
  remotePort: number
  /** CN of a client certificate that verified against the listener's CA; null otherwise. */
  certificateCn: string | null
}

const infos = new WeakMap<object, ConnectionInfo>()

export function attachConnectionInfo(stream: object, info: ConnectionInfo): void {
  infos.set(stream, info)
}

export function connectionInfo(stream: object | null | undefined): ConnectionInfo | undefined {
  return stream ? infos.get(stream) : undefined
}

/** Loopback bind addresses: only processes on this machine can reach them. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase()
  return (
    h === 'localhost' ||
    h === '::1' ||
    h === '[::1]' ||
    /^127\.\d+\.\d+\.\d+$/.test(h) ||
    h === '::ffff:127.0.0.1'
  )
}
