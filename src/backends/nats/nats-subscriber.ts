/**
 * The core NATS downlink (`nats`; `jetstream` has durable consumers: jetstream-subscriber.ts): a core
 * NATS subscription per source subject, in the queue group `groupId`, on a connection of its own (a
 * slow device must not hold up the uplink's flushes).
 *
 * - Queue group: gateways sharing a groupId split the messages (each goes to one of them); each
 *   groupId receives every message, like MSight's group_id.
 * - Delivery: at-most-once. Core NATS keeps nothing for a subscriber that is away.
 * - Order: one subscription per source, read with its async iterator: `onMessage` runs one message at
 *   a time, in the order the server delivered them.
 * - The connection reconnects forever (subscription-connection.ts).
 */
import type { NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node'
import type { Subscription } from '../backend.js'
import { errorMessage } from '../../errors.js'
import { componentLogger } from '../../observability/logger.js'
import { downlinkMessage } from './message-headers.js'
import { onOwnConnection, type NatsSubscribeRequest } from './subscription-connection.js'

export async function subscribeNatsSubjects(request: NatsSubscribeRequest): Promise<Subscription> {
  const { config, connectionName, subjects, onMessage, groupId } = request
  const log = componentLogger(request.logger, 'downlink.nats')
  let subscriptions: NatsSubscription[] = []
  const readers: Promise<void>[] = []

  const read = async (source: string, sub: NatsSubscription): Promise<void> => {
    for await (const m of sub) {
      await onMessage(downlinkMessage(source, m)).catch(() => {
        // Logged and counted by the downlink; core NATS has nothing to redeliver from.
      })
    }
  }

  const subscribe = async (nc: NatsConnection): Promise<void> => {
    subscriptions = subjects.map((subject) => nc.subscribe(subject, { queue: groupId }))
    subscriptions.forEach((sub, i) => {
      const subject = subjects[i] as string
      // A subscription the server refuses (permissions) ends its iterator with the error.
      readers.push(
        read(subject, sub).catch((err: unknown) =>
          log.error({ err: errorMessage(err), subject }, 'nats downlink subscription ended'),
        ),
      )
    })
    // Once the server has the subscriptions, a message published after subscribe() resolved reaches us.
    await nc.flush()
    log.info({ subjects, queue: groupId }, 'nats downlink subscribed')
  }

  return onOwnConnection(config, connectionName, log, subscribe, async () => {
    for (const sub of subscriptions) sub.unsubscribe()
    await Promise.all(readers)
  })
}
