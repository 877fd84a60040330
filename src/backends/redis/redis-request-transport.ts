/**
 * Requests over Redis pub/sub (`redis`). Pub/sub carries only a channel and a payload, so a request is
 * a JSON envelope published on a rule's channel, and its answer a JSON envelope published on the
 * channel the request named:
 *
 *   PUBLISH edgebridge.req.d1.reboot '{"replyTo":"my-answers","payload":"now"}'
 *   -> on my-answers: {"status":"200","correlation-id":"…","device-id":"d1","origin":"device","payload":"…"}
 *
 * Envelope fields: `replyTo` (required), `id` (optional: the request id the device sees; else the
 * gateway makes one), `payload` (a UTF-8 string: what the device receives), and any other string field
 * is a header (`device`, `method` for rules that read them). The answer's payload is the device's,
 * as UTF-8.
 *
 * At-most-once, as pub/sub: a request published while the gateway is disconnected reaches nobody and
 * the requester sees its own timeout. Requests are read on the downlink's kind of connection
 * (subscribe mode; PSUBSCRIBE again after a reconnect) and answered on a connection of their own.
 * Pub/sub has no groups: every gateway subscribed to a pattern gets every request, so give each
 * gateway its own request channels.
 */
import { componentLogger } from '../../observability/logger.js'
import { AnswerSender, servedRequests } from '../../requests/answer-sender.js'
import { answerFields } from '../../requests/answer-headers.js'
import type { CoreRequest, RequestTransportFactory } from '../../requests/request-transport.js'
import { RateLimitedLog } from '../../observability/rate-limited-log.js'
import { RedisConnection } from './redis-connection.js'
import { subscribeRedisChannels } from './redis-subscriber.js'

const BAD_REQUEST_LOG_INTERVAL_MS = 10_000 // 10 s

export const createRedisRequestTransport: RequestTransportFactory = (config, _backend, logger) => ({
  async serve(sources, handle) {
    const log = componentLogger(logger, 'requests.redis')
    const badLog = new RateLimitedLog(log, BAD_REQUEST_LOG_INTERVAL_MS)
    const sender = new AnswerSender(log)
    const answers = new RedisConnection(config.redis, `edgebridge-${config.gatewayId}-answers`, log)
    await answers.connect()
    const subscription = await subscribeRedisChannels(
      config.redis,
      `edgebridge-${config.gatewayId}-requests`,
      sources,
      async (message) => {
        const parsed = parseEnvelope(message.payload)
        if (typeof parsed === 'string') {
          badLog.warn({ channel: message.subject }, `request dropped: ${parsed}`)
          return
        }
        const call = handle({ ...parsed.request, source: message.source, subject: message.subject })
        sender.later(call, parsed.replyTo, (answer) =>
          answers.exec((p) =>
            p.publish(
              parsed.replyTo,
              JSON.stringify({ ...answerFields(answer), payload: answer.payload.toString() }),
            ),
          ),
        )
      },
      log,
    )
    return servedRequests(subscription, sender, () => answers.close())
  },
})

/** The request envelope, or why it is not one. */
function parseEnvelope(
  payload: Buffer,
): { replyTo: string; request: Omit<CoreRequest, 'source' | 'subject'> } | string {
  let value: unknown
  try {
    value = JSON.parse(payload.toString('utf8'))
  } catch {
    return 'not a JSON envelope'
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object'
  const fields = value as Record<string, unknown>
  if (typeof fields.replyTo !== 'string' || fields.replyTo === '') return 'no replyTo channel'
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(fields)) if (typeof v === 'string') headers[k] = v
  const request: Omit<CoreRequest, 'source' | 'subject'> = {
    payload: Buffer.from(typeof fields.payload === 'string' ? fields.payload : '', 'utf8'),
    headers,
  }
  if (typeof fields.id === 'string') request.id = fields.id
  return { replyTo: fields.replyTo, request }
}
