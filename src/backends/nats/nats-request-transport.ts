/**
 * Requests over NATS (`nats` and `jetstream`): NATS' own request/reply. A requester publishes to a
 * rule's subject with a reply inbox (`nats req`, `nc.request()`); the answer is published to that
 * inbox with the device's payload and its status in the `status` header (answer-headers.ts).
 *
 * - One core subscription per source in the queue group `groupId`, on a connection of its own, so
 *   gateways sharing a group split requests and a busy uplink never delays an answer.
 * - Requests are handled concurrently (a callback subscription, not one-at-a-time iteration): one
 *   device's slow answer never holds up another's.
 * - At-most-once, as core NATS: a request published while the gateway is away reaches nobody, and the
 *   requester gets NATS' "no responders" or its own timeout. Through a reconnect nats.js subscribes
 *   again by itself and buffers answers published meanwhile; a new connection (nats.js gave up on the
 *   old one) gets new subscriptions.
 */
import { componentLogger } from '../../observability/logger.js'
import {
  headers,
  type Msg,
  type NatsConnection,
  type Subscription as NatsSubscription,
} from '@nats-io/transport-node'
import type { RequestTransportFactory } from '../../requests/request-transport.js'
import { answerFields } from '../../requests/answer-headers.js'
import { AnswerSender } from '../../requests/answer-sender.js'
import { errorMessage } from '../../errors.js'
import { RateLimitedLog } from '../../observability/rate-limited-log.js'
import { onOwnConnection } from './subscription-connection.js'

const NO_REPLY_LOG_INTERVAL_MS = 10_000 // 10 s

export const createNatsRequestTransport: RequestTransportFactory = (config, _backend, logger) => ({
  async serve(sources, handle, groupId) {
    const log = componentLogger(logger, 'requests.nats')
    const noReplyLog = new RateLimitedLog(log, NO_REPLY_LOG_INTERVAL_MS)
    let subscriptions: NatsSubscription[] = []
    const sender = new AnswerSender(log)

    const onRequest = (nc: NatsConnection, source: string, m: Msg): void => {
      if (m.reply === undefined || m.reply === '') {
        noReplyLog.warn({ subject: m.subject }, 'request without a reply subject; dropped')
        return
      }
      const reply = m.reply
      const h: Record<string, string> = {}
      if (m.headers !== undefined) for (const k of m.headers.keys()) h[k] = m.headers.get(k)
      const call = handle({ source, subject: m.subject, payload: Buffer.from(m.data), headers: h })
      sender.later(call, reply, (answer) => {
        const out = headers()
        for (const [k, v] of Object.entries(answerFields(answer))) out.set(k, v)
        nc.publish(reply, answer.payload, { headers: out })
      })
    }

    const subscribe = async (nc: NatsConnection): Promise<void> => {
      subscriptions = sources.map((source) =>
        nc.subscribe(source, {
          queue: groupId,
          callback: (err, m) => {
            if (err !== null) log.error({ err: errorMessage(err), source }, 'nats request subscription ended')
            else onRequest(nc, source, m)
          },
        }),
      )
      await nc.flush()
      log.info({ sources, queue: groupId }, 'nats requests subscribed')
    }

    const name = `edgebridge-${config.gatewayId}-requests`
    // Closing the connection drains what was published (the last answers) before it resolves.
    return onOwnConnection(config.nats, name, log, subscribe, async () => {
      for (const sub of subscriptions) sub.unsubscribe()
      await sender.idle()
    })
  },
})
