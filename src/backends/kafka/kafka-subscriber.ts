/**
 * The Kafka downlink: a kafkajs consumer in the consumer group `groupId`, subscribed to the rules'
 * topics, on a client of its own.
 *
 * - At-least-once toward devices: a record's offset is resolved only when `onMessage` resolved (the
 *   devices have it), and kafkajs commits only resolved offsets. A rejected `onMessage` fails the
 *   batch: the consumer starts again from the last committed offset and the record comes again.
 * - Gateways sharing a groupId split the partitions; each groupId receives every record. A new group
 *   starts at the end of each topic (`fromBeginning: false`): a gateway gets the commands sent from the
 *   moment it joined, not a topic's history.
 * - Order: kafkajs' eachMessage hands records one at a time per partition, in offset order.
 * - Topics missing at start are created when kafka.createTopics is true (kafka.partitions and
 *   kafka.replicationFactor), else the consumer retries until they exist.
 * - The cluster being down never fails start-up: connecting and joining retry in the background with
 *   back-off, and a consumer that crashed without restarting itself is made again.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { Kafka, type Consumer, type IHeaders } from 'kafkajs'
import type { DownlinkHandler, Subscription } from '../backend.js'
import type { KafkaConfig } from '../../config/types.js'
import { errorMessage } from '../../errors.js'
import { componentLogger, type Logger } from '../../observability/logger.js'
import { kafkaClientOptions } from './client-options.js'

const RESTART_MIN_MS = 500 // back-off after a failed start, doubling...
const RESTART_MAX_MS = 10_000 // ...up to 10 s

export async function subscribeKafkaTopics(
  config: KafkaConfig,
  topics: readonly string[],
  onMessage: DownlinkHandler,
  groupId: string,
  logger: Logger,
): Promise<Subscription> {
  const log = componentLogger(logger, 'downlink.kafka')
  // Configuration errors (unreadable TLS files) reject here, like the backend's connect().
  const kafka = new Kafka(await kafkaClientOptions(config, log))
  const stop = new AbortController()
  let consumer: Consumer | undefined
  let failures = 0

  const ensureTopics = async (): Promise<void> => {
    if (!config.createTopics) return
    const admin = kafka.admin()
    await admin.connect()
    try {
      const existing = new Set(await admin.listTopics())
      const missing = topics.filter((t) => !existing.has(t))
      if (missing.length === 0) return
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: config.partitions,
          replicationFactor: config.replicationFactor,
        })),
      })
      log.info({ topics: missing }, 'created Kafka downlink topics')
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  }

  const startOnce = async (): Promise<void> => {
    const c = kafka.consumer({ groupId, allowAutoTopicCreation: false })
    consumer = c
    c.on(c.events.CRASH, (event) => {
      if (event.payload.restart) return // kafkajs restarts it itself
      log.warn({ err: errorMessage(event.payload.error) }, 'Kafka downlink consumer stopped; starting again')
      void c.disconnect().catch(() => undefined)
      void restart()
    })
    c.on(c.events.GROUP_JOIN, (event) => {
      failures = 0
      log.info({ groupId, assignment: event.payload.memberAssignment }, 'Kafka downlink joined its group')
    })
    await ensureTopics()
    await c.connect()
    await c.subscribe({ topics: [...topics], fromBeginning: false })
    await c.run({
      eachMessage: async ({ topic, message }) => {
        await onMessage({
          source: topic,
          subject: topic,
          payload: message.value ?? Buffer.alloc(0),
          headers: stringHeaders(message.headers),
          ...(message.key === null ? {} : { key: message.key.toString('utf8') }),
        })
      },
    })
  }

  let starting: Promise<void> = Promise.resolve()
  const restart = (): Promise<void> => {
    starting = (async () => {
      while (!stop.signal.aborted) {
        try {
          await startOnce()
          return
        } catch (err) {
          failures++
          if (failures === 1)
            log.warn({ err: errorMessage(err), topics }, 'Kafka downlink cannot subscribe yet; retrying')
          await consumer?.disconnect().catch(() => undefined)
          try {
            const wait = Math.min(RESTART_MIN_MS * 2 ** (failures - 1), RESTART_MAX_MS)
            await delay(wait, undefined, { signal: stop.signal })
          } catch {
            return // closed
          }
        }
      }
    })()
    return starting
  }

  void restart()
  let closing: Promise<void> | undefined
  return {
    close() {
      closing ??= (async () => {
        stop.abort()
        // kafkajs' disconnect does not stop a connect in flight (whose sockets would keep the process
        // alive): let the start settle first, then leave the group (a message in flight finishes first).
        await starting
        await consumer
          ?.disconnect()
          .catch((err: unknown) => log.debug({ err: errorMessage(err) }, 'consumer disconnect'))
      })()
      return closing
    },
  }
}

/** Kafka header values as strings (the first value of a repeated header). */
function stringHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value
    if (first !== undefined) out[name] = first.toString()
  }
  return out
}
