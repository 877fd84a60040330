/**
 * Builds the ingress' security from configuration: password file and ACL (authenticator), the
 * connection caps and flapping ban (admission before MQTT), and the per-client publish throttle.
 * One object so that SIGHUP can reload the files and the certificates together.
 */
import type { EdgebridgeConfig, ListenerConfig } from '../config/types.js'
import type { Logger } from '../observability/logger.js'
import { anonymousPolicy, configuredCredentials } from './auth/anonymous-policy.js'
import { Authenticator } from './auth/authenticator.js'
import { loadAcl } from './auth/acl-file.js'
import { loadPasswordFile } from './auth/password-file.js'
import { ConnectionLimiter, createAdmitHook, type AdmissionCounters } from './limits/connection-limiter.js'
import { createFlappingPreConnect } from './limits/connect-guard.js'
import { FlappingTracker } from './limits/flapping-tracker.js'
import { PublishThrottle } from './limits/publish-throttle.js'
import { isLoopbackHost } from './listeners/connection-info.js'
import type { AdmitHook } from './listeners/create-listener.js'
import type { PreConnectHook } from './broker.js'

export interface EdgeSecurity {
  auth: Authenticator
  throttle: PublishThrottle
  preConnect: PreConnectHook
  admit: AdmitHook
  admission: AdmissionCounters
  /**
   * The listeners with `allowAnonymous` decided (auth/anonymous-policy.ts); logs each listener's
   * choice and why, and warns when one off loopback lets anonymous clients in.
   */
  withAnonymousPolicy(listeners: readonly ListenerConfig[]): ListenerConfig[]
  /** Re-read the password and ACL files (SIGHUP). A file that no longer parses keeps the old rules. */
  reloadFiles(): Promise<void>
  close(): void
}

export async function createEdgeSecurity(config: EdgebridgeConfig, logger: Logger): Promise<EdgeSecurity> {
  const { security } = config
  const load = async () => ({
    passwords: security.passwordFile ? await loadPasswordFile(security.passwordFile) : null,
    acl: security.aclFile ? await loadAcl(security.aclFile) : null,
  })
  const auth = new Authenticator(await load(), logger)
  const flapping = new FlappingTracker(security.flapping)
  const admission: AdmissionCounters = { refusedOverCap: 0, refusedBanned: 0 }
  const throttle = new PublishThrottle({
    ratePerSecond: security.publishRatePerSecond,
    publishBurst: security.publishBurst,
    maxInflight: security.maxInflightPerClient,
  })
  return {
    auth,
    throttle,
    preConnect: createFlappingPreConnect(flapping, logger),
    admit: createAdmitHook(new ConnectionLimiter(security.maxConnections), flapping, logger, admission),
    admission,
    withAnonymousPolicy(listeners) {
      const credentials = configuredCredentials(config, listeners)
      return listeners.map((listener) => {
        const { allowAnonymous, reason } = anonymousPolicy(listener, credentials)
        const fields = {
          listener: `${listener.type}://${listener.host}:${listener.port}`,
          allowAnonymous,
          reason,
        }
        if (allowAnonymous && !isLoopbackHost(listener.host)) {
          logger.warn(fields, 'anonymous clients are allowed on a listener off loopback')
        } else {
          logger.info(fields, allowAnonymous ? 'anonymous clients allowed' : 'anonymous clients refused')
        }
        return { ...listener, allowAnonymous }
      })
    },
    async reloadFiles() {
      try {
        auth.reload(await load())
        logger.info('password and ACL files reloaded')
      } catch (err) {
        logger.error({ err }, 'reload failed; the previous password and ACL rules stay in force')
      }
    },
    close: () => throttle.close(),
  }
}
