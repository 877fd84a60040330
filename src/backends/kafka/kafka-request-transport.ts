/**
 * Requests over Kafka, in Eclipse Hono's convention: a request is a record on a rule's request topic
 * with the `correlation-id` and `reply-to` headers (key: the device id; `method` header: the method);
 * its answer is a record on the `reply-to` topic, keyed by the device id, with the same
 * `correlation-id` and the status in the `status` header (answer-headers.ts).
 *
 * - Read with the downlink's consumer (kafka-subscriber.ts) in the consumer group core.groupId:
 *   gateways sharing a group split the partitions.
 * - AT-LEAST-ONCE toward the device: a request's offset is committed once the request reached the
 *   broker for the device (or got a final answer without it). After a gateway crash the records since
 *   the last commit are read again and a device may get a request twice, with the same id: the
 *   correlation-id is the request id in the device's topic, so the device can de-duplicate. A request
 *   whose id is still in flight joins it (one device call, one answer).
 * - Requests are handed to the device one at a time per partition (a device publish is quick); the
 *   answers are awaited concurrently.
 * - Answers are produced by a producer of this transport's own client, not the backend's: the
 *   backend's `send` carries spooled records, one batch at a time, for the forwarder alone.
 */
import { componentLogger } from '../../observability/logger.js'
import { Kafka, type Producer } from 'kafkajs'
import { AnswerSender, servedRequests } from '../../requests/answer-sender.js'
import { acknowledgedRequests } from '../../requests/acknowledged-requests.js'
import { answerFields } from '../../requests/answer-headers.js'
import type { RequestTransportFactory } from '../../requests/request-transport.js'
import { RateLimitedLog } from '../../observability/rate-limited-log.js'
import { kafkaClientOptions } from './client-options.js'
import { subscribeKafkaTopics } from './kafka-subscriber.js'

const BAD_REQUEST_LOG_INTERVAL_MS = 10_000 // 10 s

/** Hono's header names for a request. */
export const KAFKA_REQUEST_HEADERS = { correlationId: 'correlation-id', replyTo: 'reply-to' } as const

export const createKafkaRequestTransport: RequestTransportFactory = (config, _backend, logger) => ({
  async serve(sources, handle, groupId) {
    const log = componentLogger(logger, 'requests.kafka')
    const badLog = new RateLimitedLog(log, BAD_REQUEST_LOG_INTERVAL_MS)
    const sender = new AnswerSender(log)
    const kafka = new Kafka(await kafkaClientOptions(config.kafka, log))
    // acks=-1 and idempotent, as the uplink: an answer the core confirmed is stored.
    const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    let connected: Promise<void> | undefined
    const produce = async (topic: string, key: string, value: Buffer, headers: Record<string, string>) => {
      connected ??= producer.connect().catch((err: unknown) => {
        connected = undefined
        throw err
      })
      await connected
      await producer.send({ topic, acks: -1, messages: [{ key, value, headers }] })
    }
    const subscription = await subscribeKafkaTopics(
      config.kafka,
      sources,
      acknowledgedRequests({
        handle,
        fields: { replyTo: KAFKA_REQUEST_HEADERS.replyTo, id: KAFKA_REQUEST_HEADERS.correlationId },
        sender,
        dropLog: badLog,
        send: (replyTo, answer) => produce(replyTo, answer.device, answer.payload, answerFields(answer)),
      }),
      groupId,
      log,
    )
    return servedRequests(subscription, sender, async () => {
      if (connected !== undefined) await producer.disconnect().catch(() => undefined)
    })
  },
})
