/**
 * `redis`: Redis pub/sub. Each record is `PUBLISH <record.target> <payload>`; a batch is one pipeline.
 *
 * Delivery: at-most-once at the core, by nature of pub/sub. The "ack" that lets the spool advance is the
 * server's reply to every PUBLISH of the batch: the server took the message and handed it to whoever was
 * subscribed at that moment (the reply counts them; 0 is still a success). Nobody subscribed, or a
 * subscriber that is disconnected, means the message is gone: use `redis-streams` to keep it.
 *
 * Only the raw codec: pub/sub has no headers, so the payload is the device's payload, byte for byte.
 */
import type { Backend, BackendDeps, BackendFactory } from '../backend.js'
import type { EdgebridgeConfig } from '../../config/types.js'
import type { SpooledRecord } from '../../record.js'
import { assertCarried } from '../descriptor.js'
import { redisDescriptor } from './descriptor.js'
import { RedisConnection } from './redis-connection.js'
import { subscribeRedisChannels } from './redis-subscriber.js'
import { componentLogger } from '../../observability/logger.js'

export const createRedisBackend: BackendFactory = (config: EdgebridgeConfig, deps: BackendDeps): Backend => {
  const connection = new RedisConnection(
    config.redis,
    `edgebridge-${config.gatewayId}`,
    componentLogger(deps.logger, 'backend.redis'),
  )
  return {
    name: 'redis',
    connect: () => connection.connect(),
    isConnected: () => connection.isConnected(),
    close: () => connection.close(),
    subscribe: (patterns, onMessage) =>
      subscribeRedisChannels(
        config.redis,
        `edgebridge-${config.gatewayId}-downlink`,
        patterns,
        onMessage,
        deps.logger,
      ),
    async send(batch: readonly SpooledRecord[], signal?: AbortSignal): Promise<void> {
      if (batch.length === 0) return
      assertCarried(redisDescriptor, batch)
      await connection.exec((pipeline) => {
        for (const record of batch) pipeline.publish(record.target, record.payload)
      }, signal)
    },
  }
}
