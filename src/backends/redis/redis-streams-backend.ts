/**
 * `redis-streams`: each record is `XADD <record.target> [MAXLEN ~ N] * payload <bytes> topic ... seq ...`,
 * a batch is one pipeline, and the ack is every reply being an entry id. Durable as far as the server's
 * RDB/AOF settings make it; `redis.streamMaxLen` > 0 trims the stream approximately (`~`, cheap).
 *
 * Fields: `payload` (the device's bytes, binary-safe), then the provenance under the same names as
 * Kafka's and NATS' headers (record.ts): `mqtt.topic`, `mqtt.qos`, `mqtt.retain`, `client.id`,
 * `gateway.id`, `received.at` (ISO 8601), `seq`, and `mqtt.username` when the device gave one.
 */
import type { Backend, BackendDeps, BackendFactory } from '../backend.js'
import type { EdgebridgeConfig } from '../../config/types.js'
import { BackendError } from '../../errors.js'
import { provenanceHeaders, type SpooledRecord } from '../../record.js'
import { assertCarried } from '../descriptor.js'
import { redisStreamsDescriptor } from './descriptor.js'
import { RedisConnection } from './redis-connection.js'
import { subscribeRedisStreams } from './redis-stream-subscriber.js'
import { componentLogger } from '../../observability/logger.js'

/** The stream entry's fields for a record, in a fixed order; exported for tests and consumers' docs. */
export function streamFields(record: SpooledRecord): (string | Buffer)[] {
  return ['payload', record.payload, ...Object.entries(provenanceHeaders(record)).flat()]
}

export const createRedisStreamsBackend: BackendFactory = (
  config: EdgebridgeConfig,
  deps: BackendDeps,
): Backend => {
  const connection = new RedisConnection(
    config.redis,
    `edgebridge-${config.gatewayId}`,
    componentLogger(deps.logger, 'backend.redis-streams'),
  )
  const trim: (string | number)[] =
    config.redis.streamMaxLen > 0 ? ['MAXLEN', '~', config.redis.streamMaxLen] : []
  return {
    name: 'redis-streams',
    connect: () => connection.connect(),
    isConnected: () => connection.isConnected(),
    close: () => connection.close(),
    subscribe: (streams, onMessage, groupId) =>
      subscribeRedisStreams(
        config.redis,
        `edgebridge-${config.gatewayId}-downlink`,
        streams,
        onMessage,
        groupId,
        config.gatewayId,
        deps.logger,
      ),
    async send(batch: readonly SpooledRecord[], signal?: AbortSignal): Promise<void> {
      if (batch.length === 0) return
      assertCarried(redisStreamsDescriptor, batch)
      const replies = await connection.exec((pipeline) => {
        for (const record of batch) pipeline.xadd(record.target, ...trim, '*', ...streamFields(record))
      }, signal)
      replies.forEach((id, i) => {
        if (typeof id !== 'string') {
          throw new BackendError(
            'BACKEND_UNKNOWN',
            `XADD to ${batch[i]!.target} returned ${String(id)}, not an entry id`,
            {
              retriable: true,
            },
          )
        }
      })
    },
  }
}
