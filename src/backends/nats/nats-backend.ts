/**
 * `nats`: core NATS. Each record is published to `record.target` with the provenance headers, then one
 * `flush()` per batch.
 *
 * Delivery: AT-MOST-ONCE, by nature of core NATS. The "ack" that lets the spool advance is the flush round
 * trip (PING/PONG): the server has read every message of the batch and handed it to whoever was
 * subscribed at that moment. No subscriber, or a slow one the server cuts off, means the message is gone;
 * use `jetstream` to keep it. A publish to a subject the account may not publish on is dropped by the
 * server with an asynchronous -ERR that the flush does not report; it shows up in the log.
 */
import type { Backend, BackendDeps, BackendFactory } from '../backend.js'
import type { EdgebridgeConfig } from '../../config/types.js'
import { BackendError, EdgebridgeError } from '../../errors.js'
import type { SpooledRecord } from '../../record.js'
import { withAbort } from '../abort.js'
import { toBackendError } from './errors.js'
import { assertCarried } from '../descriptor.js'
import { natsDescriptor } from './descriptor.js'
import { encodedMessageHeaders } from './message-headers.js'
import { NatsConnectionHolder } from './nats-connection.js'
import { sharedNatsMembers } from './shared-members.js'
import { componentLogger } from '../../observability/logger.js'

/** The flush round trip of a batch must complete within this; then the batch fails retriably. */
const FLUSH_TIMEOUT_MS = 10_000 // 10 s

export const createNatsBackend: BackendFactory = (config: EdgebridgeConfig, deps: BackendDeps): Backend => {
  const logger = componentLogger(deps.logger, 'backend.nats')
  const holder = new NatsConnectionHolder(config.nats, `edgebridge-${config.gatewayId}`, logger)
  return {
    name: 'nats',
    ...sharedNatsMembers(holder, config, deps.logger),
    async send(batch: readonly SpooledRecord[], signal?: AbortSignal): Promise<void> {
      if (batch.length === 0) return
      assertCarried(natsDescriptor, batch)
      const nc = holder.current()
      try {
        for (const record of batch)
          nc.publish(record.target, record.payload, { headers: encodedMessageHeaders(record) })
        await withAbort(withTimeout(nc.flush(), FLUSH_TIMEOUT_MS), signal)
      } catch (err) {
        if (err instanceof EdgebridgeError) throw err
        throw toBackendError(err, `nats publish of ${batch.length} records`)
      }
    },
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new BackendError('BACKEND_UNAVAILABLE', `nats flush not answered within ${ms} ms`, {
            retriable: true,
          }),
        ),
      ms,
    )
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
