/**
 * `jetstream`: each record is `js.publish(record.target, payload, { msgID: deduplicationId(record), headers })`,
 * and the spool advances only when every record's PubAck arrived: the stream stored it (durable as the
 * stream's storage and replicas). A PubAck with `duplicate: true` is a success too: the stream already
 * holds that msgID from an earlier attempt of the same batch (at-least-once, de-duplicated within the
 * stream's duplicate window).
 *
 * Publishes are pipelined (up to MAX_IN_FLIGHT awaiting their PubAck) on one connection, across devices
 * but one at a time per device (publishAll). If one fails the whole batch is sent again; those already
 * stored come back as duplicates, and no record of the failed one's device was stored after it, so each
 * device's order holds.
 *
 * With `nats.stream.create`, the stream `nats.stream.name` capturing `nats.stream.subjects` is created (or
 * its subjects updated) on every (re)connect, and before a send if that has not succeeded yet.
 */
import { jetstream, jetstreamManager, JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream'
import { subscribeJetStream } from './jetstream-subscriber.js'
import { natsDownlink } from './subscription-connection.js'
import type { NatsConnection } from '@nats-io/transport-node'
import type { Backend, BackendDeps, BackendFactory } from '../backend.js'
import type { EdgebridgeConfig } from '../../config/types.js'
import { EdgebridgeError } from '../../errors.js'
import { deduplicationId, type SpooledRecord } from '../../record.js'
import { withAbort } from '../abort.js'
import { toBackendError } from './errors.js'
import { assertCarried } from '../descriptor.js'
import { jetstreamDescriptor } from './descriptor.js'
import { messageHeaders } from './message-headers.js'
import { NatsConnectionHolder } from './nats-connection.js'
import { sharedNatsMembers } from './shared-members.js'
import { componentLogger } from '../../observability/logger.js'

const MAX_IN_FLIGHT = 256 // publishes awaiting a PubAck at once
const PUBACK_TIMEOUT_MS = 10_000 // 10 s per publish
/** JetStream API error: "stream name already in use with a different configuration". */
const STREAM_NAME_IN_USE = 10058

export const createJetStreamBackend: BackendFactory = (
  config: EdgebridgeConfig,
  deps: BackendDeps,
): Backend => {
  const logger = componentLogger(deps.logger, 'backend.jetstream')
  const { stream } = config.nats
  /** The connection on which the stream is known to exist (null: not yet, or a new connection). */
  let streamReadyOn: NatsConnection | null = null
  let ensuring: Promise<void> | null = null

  const ensureStream = async (nc: NatsConnection): Promise<void> => {
    if (!stream.create || streamReadyOn === nc) return
    ensuring ??= (async () => {
      const jsm = await jetstreamManager(nc)
      try {
        await jsm.streams.add({ name: stream.name, subjects: stream.subjects })
        logger.info({ stream: stream.name, subjects: stream.subjects }, 'jetstream stream ready')
      } catch (err) {
        if (!(err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE)) throw err
        // It exists with another configuration: make it capture our subjects, keep the rest of it.
        await jsm.streams.update(stream.name, { subjects: stream.subjects })
        logger.info({ stream: stream.name, subjects: stream.subjects }, 'jetstream stream subjects updated')
      }
      streamReadyOn = nc
    })().finally(() => {
      ensuring = null
    })
    return ensuring
  }

  const holder = new NatsConnectionHolder(config.nats, `edgebridge-${config.gatewayId}`, logger, ensureStream)
  let js: { nc: NatsConnection; client: JetStreamClient } | null = null

  return {
    name: 'jetstream',
    ...sharedNatsMembers(holder, config, deps.logger),
    // The downlink through durable consumers: commands sent while the gateway was away still arrive.
    subscribe: natsDownlink(subscribeJetStream, config, deps.logger),
    async send(batch: readonly SpooledRecord[], signal?: AbortSignal): Promise<void> {
      if (batch.length === 0) return
      assertCarried(jetstreamDescriptor, batch)
      const nc = holder.current()
      try {
        await withAbort(ensureStream(nc), signal)
        if (js?.nc !== nc) js = { nc, client: jetstream(nc, { timeout: PUBACK_TIMEOUT_MS }) }
        await withAbort(publishAll(js.client, batch), signal)
      } catch (err) {
        if (err instanceof EdgebridgeError) throw err
        throw toBackendError(err, `jetstream publish of ${batch.length} records`)
      }
    },
  }
}

/**
 * Publish the batch with up to MAX_IN_FLIGHT publishes under way; resolve when every PubAck arrived.
 *
 * Pipelined across devices, one at a time per device: a device's next record is published only once
 * the stream stored the one before it. A pipelined publish that fails cannot be taken back from the
 * ones sent after it: those are stored, the failed one is stored only when the forwarder sends the
 * batch again, after them. During a stream leader change that reordered a device's records at the
 * core (test/integration/jetstream-order.test.ts shows it on one server). With this rule the records
 * that follow a failed one on its device are never sent in this attempt; the retry's copies of what
 * was stored are dropped by msgID, so each device's records are stored in its order.
 */
async function publishAll(js: JetStreamClient, batch: readonly SpooledRecord[]): Promise<void> {
  const inFlight = new Set<Promise<void>>()
  /** Per device (client id), its latest record in this batch: resolves once stored, or rejects. */
  const latest = new Map<string, Promise<void>>()
  let firstError: unknown = undefined
  const publish = (record: SpooledRecord) => async (): Promise<void> => {
    if (firstError !== undefined) throw firstError // an earlier record failed: keep this one back
    await js.publish(record.target, record.payload, {
      msgID: deduplicationId(record),
      headers: messageHeaders(record),
    })
  }
  for (const record of batch) {
    if (firstError !== undefined) break
    const previous = latest.get(record.clientId)
    const stored = previous === undefined ? publish(record)() : previous.then(publish(record))
    latest.set(record.clientId, stored)
    const p: Promise<void> = stored
      .catch((err: unknown) => {
        firstError ??= err
      })
      .finally(() => inFlight.delete(p))
    inFlight.add(p)
    if (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  if (firstError !== undefined) throw firstError
}
