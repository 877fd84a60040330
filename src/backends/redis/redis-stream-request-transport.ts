/**
 * Requests over Redis Streams (`redis-streams`): a request is an entry on a rule's request stream,
 * its answer an entry XADDed to the stream the request named:
 *
 *   XADD edgebridge.requests * device d1 method reboot replyTo my-answers payload now [id r-17]
 *   -> XADD my-answers * status 200 correlation-id r-17 device-id d1 origin device payload …
 *
 * - Read with the downlink's consumer group reader (a group per core.groupId, the gateway id as the
 *   consumer): gateways sharing a group split the requests.
 * - An entry is XACKed once the request reached the broker for the device (or got a final answer
 *   without it): at-least-once. After a crash the entry is read again and the device may get the
 *   request twice, with the same `id` when the entry gives one (give one, so the device can
 *   de-duplicate; without it the gateway makes a new id each time). A request whose id is still in
 *   flight joins it: one device call, one answer.
 * - Answers are trimmed like the uplink's streams (redis.streamMaxLen).
 */
import { componentLogger } from '../../observability/logger.js'
import { AnswerSender, servedRequests } from '../../requests/answer-sender.js'
import { acknowledgedRequests } from '../../requests/acknowledged-requests.js'
import { answerFields } from '../../requests/answer-headers.js'
import type { RequestTransportFactory } from '../../requests/request-transport.js'
import { RateLimitedLog } from '../../observability/rate-limited-log.js'
import { RedisConnection } from './redis-connection.js'
import { subscribeRedisStreams } from './redis-stream-subscriber.js'

const BAD_REQUEST_LOG_INTERVAL_MS = 10_000 // 10 s

export const createRedisStreamRequestTransport: RequestTransportFactory = (config, _backend, logger) => ({
  async serve(sources, handle, groupId) {
    const log = componentLogger(logger, 'requests.redis-streams')
    const badLog = new RateLimitedLog(log, BAD_REQUEST_LOG_INTERVAL_MS)
    const sender = new AnswerSender(log)
    const answers = new RedisConnection(config.redis, `edgebridge-${config.gatewayId}-answers`, log)
    await answers.connect()
    const maxLen = config.redis.streamMaxLen > 0 ? ['MAXLEN', '~', config.redis.streamMaxLen] : []
    const subscription = await subscribeRedisStreams(
      config.redis,
      `edgebridge-${config.gatewayId}-requests`,
      sources,
      acknowledgedRequests({
        handle,
        fields: { replyTo: 'replyTo', id: 'id' },
        sender,
        dropLog: badLog,
        send: (replyTo, answer) =>
          answers.exec((p) =>
            p.xadd(
              replyTo,
              ...maxLen,
              '*',
              ...Object.entries(answerFields(answer)).flat(),
              'payload',
              answer.payload,
            ),
          ),
      }),
      groupId,
      config.gatewayId,
      log,
    )
    return servedRequests(subscription, sender, () => answers.close())
  },
})
