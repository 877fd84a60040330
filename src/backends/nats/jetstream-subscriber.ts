/**
 * The JetStream downlink: one durable pull consumer per source subject, so commands published while
 * the gateway was down (or restarting) are delivered when it comes back.
 *
 * - Stream: the one that captures the source subject (`jsm.streams.find`); a source no stream
 *   captures cannot be durable and is refused with a clear log line (retried on the next connection).
 * - Consumer: durable, named from core.groupId and the subject, created with DeliverPolicy.New (a new
 *   group starts at the stream's end, it does not replay the stream's history), AckPolicy.Explicit.
 *   Gateways sharing a groupId share the consumer and split the messages, like a queue group.
 * - Acknowledgement: only once `onMessage` resolved, that is once the message is durably queued for
 *   its devices (the broker store) or delivered, and with `ackAck` (the server confirms the ack).
 *   A rejected `onMessage` is `nak`ed: JetStream delivers it again. At-least-once toward devices.
 * - Order: messages of one consumer are handled one at a time, in stream order.
 */
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
} from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { createHash } from 'node:crypto'
import type { Subscription } from '../backend.js'
import { errorMessage } from '../../errors.js'
import { componentLogger } from '../../observability/logger.js'
import { downlinkMessage } from './message-headers.js'
import { NatsConnectionHolder } from './nats-connection.js'
import type { NatsSubscribeRequest } from './subscription-connection.js'

const ACK_WAIT_NS = 30_000_000_000 // 30 s before JetStream redelivers an unacknowledged command

/** A durable name NATS accepts (no `.`, `*`, `>`, spaces), stable for a (group, subject) pair. */
export function durableName(groupId: string, subject: string): string {
  const readable = `${groupId}_${subject}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 48)
  const digest = createHash('sha256').update(`${groupId}\u0000${subject}`).digest('hex').slice(0, 12)
  return `${readable}_${digest}`
}

export async function subscribeJetStream(request: NatsSubscribeRequest): Promise<Subscription> {
  const { config, connectionName, subjects, onMessage, groupId } = request
  const log = componentLogger(request.logger, 'downlink.jetstream')
  let closed = false
  let subscribedOn: NatsConnection | null = null
  const running: ConsumerMessages[] = []
  const readers: Promise<void>[] = []

  const read = async (subject: string, messages: ConsumerMessages): Promise<void> => {
    for await (const m of messages) {
      try {
        await onMessage(downlinkMessage(subject, m))
      } catch {
        // Logged and counted by the downlink; JetStream delivers it again.
        m.nak()
        continue
      }
      await m.ackAck().catch((err: unknown) => {
        // Not confirmed: JetStream redelivers after ack_wait (a duplicate at the device, never a loss).
        log.warn({ err: errorMessage(err), subject: m.subject }, 'jetstream ack not confirmed')
      })
    }
  }

  const subscribe = async (nc: NatsConnection): Promise<void> => {
    if (subscribedOn === nc || closed) return
    subscribedOn = nc
    const jsm = await jetstreamManager(nc)
    const js = jetstream(nc)
    for (const subject of subjects) {
      let stream: string
      try {
        stream = await jsm.streams.find(subject)
      } catch (err) {
        log.error(
          { subject, err: errorMessage(err) },
          'no JetStream stream captures this downlink subject: commands to it cannot be delivered',
        )
        continue
      }
      const durable = durableName(groupId, subject)
      try {
        await jsm.consumers.info(stream, durable)
      } catch {
        await jsm.consumers.add(stream, {
          durable_name: durable,
          filter_subject: subject,
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.New,
          ack_wait: ACK_WAIT_NS,
        })
      }
      const consumer = await js.consumers.get(stream, durable)
      const messages = await consumer.consume({ max_messages: 64 })
      running.push(messages)
      readers.push(
        read(subject, messages).catch((err: unknown) =>
          log.error({ err: errorMessage(err), subject }, 'jetstream downlink consumer ended'),
        ),
      )
      log.info({ subject, stream, durable }, 'jetstream downlink consuming')
    }
  }

  const holder = new NatsConnectionHolder(config, connectionName, log, subscribe)
  await holder.connect()
  let closing: Promise<void> | undefined
  return {
    close() {
      closing ??= (async () => {
        closed = true
        for (const messages of running) await messages.close()
        await Promise.all(readers)
        await holder.close()
      })()
      return closing
    },
  }
}
