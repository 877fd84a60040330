/**
 * What arrived at the core, read back from the core itself at the end of a run, for the verdict.
 *
 * Each collector reads a durable log from its beginning: a Redis stream (XRANGE), a JetStream stream
 * (an ordered consumer) or a Kafka topic (a consumer in a fresh group). Reading after the fact, not
 * live, means the collector cannot miss anything while the core or the daemon is down, and the order it
 * returns is the core's order. `arrivals()` can be called again and again (while the backlog drains); it
 * reads on from where it stopped and returns everything so far.
 *
 * Core NATS and Redis pub/sub keep nothing: they are at-most-once by design (DESIGN.md), so no crash test
 * holds them to the promise, and no collector reads them here.
 */
import { jetstream, jetstreamManager, type Consumer } from '@nats-io/jetstream'
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node'
import { Redis } from 'ioredis'
import { Kafka, logLevel, type Consumer as KafkaConsumer } from 'kafkajs'
import { uniqueName } from '../support/env.js'
import { readTopic } from '../support/kafka-java-clients.js'

/** One fleet message as it arrived: device index and its sequence number. */
export interface Arrival {
  d: number
  s: number
}

export interface CoreCollector {
  /** Everything that arrived so far, in the core's order. */
  arrivals(): Promise<Arrival[]>
  close(): Promise<void>
}

/** A fleet payload, or NaNs for anything else (the verdict counts those as foreign). */
export function parseArrival(payload: string | Buffer | Uint8Array | null | undefined): Arrival {
  try {
    const text = typeof payload === 'string' ? payload : Buffer.from(payload ?? []).toString('utf8')
    const value = JSON.parse(text) as { d?: unknown; s?: unknown }
    if (typeof value.d === 'number' && typeof value.s === 'number') return { d: value.d, s: value.s }
  } catch {
    // not a fleet message
  }
  return { d: NaN, s: NaN }
}

/** The stream `key` of the redis-streams backend, read with XRANGE (the `payload` field of each entry). */
export function redisStreamCollector(url: string, key: string): CoreCollector {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 })
  const out: Arrival[] = []
  let lastId = '-'
  return {
    async arrivals() {
      if (redis.status === 'wait') await redis.connect()
      for (;;) {
        const start = lastId === '-' ? '-' : `(${lastId}`
        const entries = await redis.xrange(key, start, '+', 'COUNT', 5000)
        if (entries.length === 0) return out
        for (const [id, fields] of entries) {
          const i = fields.indexOf('payload')
          out.push(parseArrival(i >= 0 ? fields[i + 1] : undefined))
          lastId = id
        }
      }
    },
    async close() {
      redis.disconnect()
    },
  }
}

/** The JetStream stream `stream`, read in stream order by an ordered consumer; `url`: one server or a cluster's. */
export function jetStreamCollector(url: string | string[], stream: string): CoreCollector {
  let nc: NatsConnection | undefined
  let consumer: Consumer | undefined
  const out: Arrival[] = []
  let lastSeq = 0
  return {
    async arrivals() {
      nc ??= await natsConnect({ servers: url })
      try {
        const jsm = await jetstreamManager(nc)
        consumer ??= await jetstream(nc).consumers.get(stream)
        const target = (await jsm.streams.info(stream)).state.last_seq
        while (lastSeq < target) {
          const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 })
          for await (const m of batch) {
            out.push(parseArrival(m.data))
            lastSeq = m.seq
          }
        }
      } catch (err) {
        // While a cluster elects a new stream leader, JetStream API requests time out. The caller
        // polls again; what was read so far is returned, so a hiccup here can only make a verdict
        // see fewer arrivals (a failure), never more.
        if (!(err instanceof Error && /timeout|no responders|503/i.test(`${err.name} ${err.message}`)))
          throw err
      }
      return out
    },
    async close() {
      await nc?.close()
    },
  }
}

/** The Kafka topic `topic`, every partition from its beginning, by a consumer in a group of its own. */
export function kafkaTopicCollector(brokers: string[], topic: string): CoreCollector {
  const kafka = new Kafka({ brokers, clientId: 'edgebridge-crash-collector', logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  let consumer: KafkaConsumer | undefined
  const out: Arrival[] = []
  /** Per partition, the offset after the last message consumed. */
  const next = new Map<number, number>()
  return {
    async arrivals() {
      if (consumer === undefined) {
        await admin.connect()
        consumer = kafka.consumer({ groupId: uniqueName('crash-collector') })
        await consumer.connect()
        await consumer.subscribe({ topic, fromBeginning: true })
        await consumer.run({
          eachMessage: async ({ partition, message }) => {
            out.push(parseArrival(message.value))
            next.set(partition, Number(message.offset) + 1)
          },
        })
      }
      const offsets = await admin.fetchTopicOffsets(topic)
      const deadline = Date.now() + 60_000
      for (;;) {
        const behind = offsets.filter((o) => (next.get(o.partition) ?? 0) < Number(o.high))
        if (behind.length === 0) return out
        if (Date.now() > deadline) {
          throw new Error(`kafka collector: ${topic} not read up to its high watermark within 60 s`)
        }
        await new Promise((r) => setTimeout(r, 200))
      }
    },
    async close() {
      await consumer?.disconnect().catch(() => undefined)
      await admin.disconnect().catch(() => undefined)
    },
  }
}

/**
 * The Kafka topic `topic`, every partition from its beginning, read by Apache Kafka's own Java consumer
 * without a consumer group (TopicReader: assign and seek). Nothing of the client under test takes part
 * in the reading, and no group or committed offset can hide a record.
 */
export function kafkaTopicReader(brokers: string[], topic: string): CoreCollector {
  const out: Arrival[] = []
  /** Per partition, the offset after the last record read. */
  const next = new Map<number, number>()
  return {
    async arrivals() {
      for (const r of await readTopic(brokers, topic, next)) {
        out.push(parseArrival(r.value))
        next.set(r.partition, r.offset + 1)
      }
      return out
    },
    async close() {
      // Each read is its own short-lived process.
    },
  }
}

/** How long the core may show nothing new before a wait for missing messages gives up. */
const NO_PROGRESS_MS = 20_000 // 20 s: far above the forwarder's 1 s retry ceiling in these tests

/**
 * Reads the core until every acknowledged message is there, or until `timeoutMs` passed or nothing
 * new arrived for NO_PROGRESS_MS (the daemon may still be draining its backlog; a message that is
 * really lost never comes, and waiting the whole timeout for it would only slow the failure down).
 * Missing messages are for the verdict to report, not an error here.
 */
export async function collectUntilComplete(
  collector: CoreCollector,
  acknowledged: Map<number, number[]>,
  timeoutMs: number,
): Promise<{ arrivals: Arrival[]; drainMs: number }> {
  const started = Date.now()
  let count = -1
  let grewAt = started
  for (;;) {
    const arrivals = await collector.arrivals()
    const now = Date.now()
    if (arrivals.length !== count) {
      count = arrivals.length
      grewAt = now
    }
    if (allPresent(acknowledged, arrivals) || now - started > timeoutMs || now - grewAt > NO_PROGRESS_MS) {
      return { arrivals, drainMs: now - started }
    }
    await new Promise((r) => setTimeout(r, 500))
  }
}

function allPresent(acknowledged: Map<number, number[]>, arrivals: readonly Arrival[]): boolean {
  const seen = new Map<number, Set<number>>()
  for (const a of arrivals) {
    let set = seen.get(a.d)
    if (set === undefined) seen.set(a.d, (set = new Set()))
    set.add(a.s)
  }
  for (const [d, seqs] of acknowledged) {
    const set = seen.get(d)
    for (const s of seqs) if (set?.has(s) !== true) return false
  }
  return true
}
