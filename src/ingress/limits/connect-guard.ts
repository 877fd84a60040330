/**
 * aedes `preConnect` hook for flapping: every CONNECT is counted against its client id and its peer
 * address; one over the limit (or under a ban) is refused by closing the connection without CONNACK,
 * before authentication spends CPU on it. MQTT 3.1.1 has no return code for "banned", and closing
 * without CONNACK is what a server does when none applies [MQTT-3.2.2-6].
 */
import type { PreConnectHook } from '../broker.js'
import type { Logger } from '../../observability/logger.js'
import { connectionInfo } from '../listeners/connection-info.js'
import { systemClock, type Clock } from './clock.js'
import type { FlappingTracker } from './flapping-tracker.js'

export function createFlappingPreConnect(
  tracker: FlappingTracker,
  logger: Logger,
  clock: Clock = systemClock,
): PreConnectHook {
  return (client, packet, callback) => {
    if (!tracker.enabled) return callback(null, true)
    const now = clock.now()
    const info = connectionInfo(client.conn)
    const address = info?.remoteAddress ?? (client.conn as { remoteAddress?: string }).remoteAddress ?? ''
    // Both keys are counted on every connect, so neither a changing id nor a changing address escapes.
    const byId = packet.clientId ? tracker.record(`id:${packet.clientId}`, now) : false
    const byAddress = address ? tracker.record(`ip:${address}`, now) : false
    if (byId || byAddress) {
      logger.warn(
        { clientId: packet.clientId, remoteAddress: address, by: byId ? 'client id' : 'address' },
        'connection refused: connect flapping',
      )
      return callback(new Error('connect flapping: client banned for a while'), false)
    }
    callback(null, true)
  }
}
