/**
 * Whether a listener accepts clients that give no credentials, decided once per listener at start:
 *
 * 1. `allowAnonymous` set on the listener (`true` or `false`; `mqtt.allowAnonymous` for the default
 *    listener) decides.
 * 2. Otherwise, once the gateway has credentials to check (`security.passwordFile`, or a listener
 *    that requires client certificates), anonymous clients are refused on every listener: an
 *    operator who adds a password file expects passwords to be required, as Mosquitto 2 refuses
 *    anonymous clients once `password_file` is set unless `allow_anonymous true` says otherwise.
 * 3. Otherwise they are allowed on a loopback bind address only (only this machine can reach it).
 */
import type { EdgebridgeConfig, ListenerConfig } from '../../config/types.js'
import { isLoopbackHost } from '../listeners/connection-info.js'

export interface AnonymousPolicy {
  allowAnonymous: boolean
  /** Why, in words, for the start-up log. */
  reason: string
}

/** What the gateway can check credentials against, when anything. */
export function configuredCredentials(
  config: Pick<EdgebridgeConfig, 'security'>,
  listeners: readonly ListenerConfig[],
): string | null {
  if (config.security.passwordFile !== '') return 'a password file is configured'
  if (listeners.some((l) => l.tls.requireCertificate)) return 'a listener requires client certificates'
  return null
}

export function anonymousPolicy(listener: ListenerConfig, credentials: string | null): AnonymousPolicy {
  if (listener.allowAnonymous !== null) {
    return { allowAnonymous: listener.allowAnonymous, reason: 'allowAnonymous is set on the listener' }
  }
  if (credentials !== null) return { allowAnonymous: false, reason: credentials }
  return isLoopbackHost(listener.host)
    ? { allowAnonymous: true, reason: 'loopback listener and no credentials configured' }
    : { allowAnonymous: false, reason: 'listener off loopback' }
}
