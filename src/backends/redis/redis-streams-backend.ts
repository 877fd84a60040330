/**
 * `redis-streams`: each record is `XADD <record.target> [MAXLEN ~ N] * payload <bytes> topic ... seq ...`,
 * a batch is one pipeline, and the ack is every reply being an entry id. Durable as far as the server's
 * RDB/AOF settings make it; `redis.streamMaxLen` > 0 trims the stream approximately (`~`, cheap).
 *
 * Fields: `payload` (the device's bytes, binary-safe), then the provenance: `topic`, `qos`, `retain`,
 * `clientId`, `gatewayId`, `receivedAt` (ISO 8601), `seq`, and `username` when the device gave one.
 */
import type { Backend, BackendDeps, BackendFactory } from '../backend.js'
import type { EdgebridgeConfig } from '../../config/types.js'
import { BackendError } from '../../errors.js'
import { PROVENANCE_FIELD, type SpooledRecord } from '../../record.js'
import { RedisConnection } from './redis-connection.js'
import { subscribeRedisStreams } from './redis-stream-subscriber.js'

/** The stream entry's fields for a record, in a fixed order; exported for tests and consumers' docs. */
export function streamFields(record: SpooledRecord): (string | Buffer)[] {
  const fields: (string | Buffer)[] = [
    'payload',
    record.payload,
    'topic',
    record.topic,
    'qos',
    String(record.qos),
    'retain',
    record.retain ? 'true' : 'false',
    PROVENANCE_FIELD.clientId,
    record.clientId,
    PROVENANCE_FIELD.gatewayId,
    record.gatewayId,
    'receivedAt',
    new Date(record.receivedAt).toISOString(),
    PROVENANCE_FIELD.seq,
    String(record.seq),
  ]
  if (record.username !== undefined) fields.push('username', record.username)
  return fields
}

export const createRedisStreamsBackend: BackendFactory = (
  config: EdgebridgeConfig,
  deps: BackendDeps,
): Backend => {
  const connection = new RedisConnection(
    config.redis,
    `edgebridge-${config.gatewayId}`,
    deps.logger.child({ component: 'backend.redis-streams' }),
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
      for (const record of batch) {
        if (record.codec !== 'raw') {
          throw new BackendError(
            'BACKEND_REJECTED',
            `codec ${record.codec} is not supported by the redis-streams backend (provenance travels as stream ` +
              `fields, the payload raw); route ${record.topic} with codec raw`,
          )
        }
      }
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
