/**
 * The audit's Kafka source: every partition of a topic from the earliest offset, an offset or a time,
 * up to the high watermarks taken when the audit starts. The consumer group is the audit's own (a
 * fresh name, deleted at the end), so it disturbs no real consumer.
 *
 * A cluster that is electing leaders or loading its group coordinator (right after a broker restart)
 * makes the consumer crash with a retriable error; kafkajs then restarts it, and it reads its
 * partitions again from the beginning (the group commits nothing). Records at offsets already read are
 * skipped, so a restart can neither count a record twice nor end the audit early.
 *
 * Memory: kafkajs fetches every partition in turn, at most `maxBytesPerPartition` each, so the seqs
 * of one gateway spread over partitions arrive at most a fetch apart and the audit's ranges stay few.
 */
import { randomUUID } from 'node:crypto'
import { Kafka, type IHeaders } from 'kafkajs'
import { kafkaClientOptions } from '../backends/kafka/client-options.js'
import { silentLogger } from '../observability/logger.js'
import { PROVENANCE } from '../record.js'
import { AuditInputError, coreUnreachable } from './audit-errors.js'
import { parseSeq, type AuditedRecord, type AuditSource, type OpenSource } from './audited-record.js'

/** Bytes fetched per partition per request: small enough that partitions advance together. */
const MAX_BYTES_PER_PARTITION = 256 * 1024 // 256 KiB

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name]
  if (value === undefined) return undefined
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined ? undefined : first.toString()
}

export const openKafkaSource: OpenSource = async (config, topic, from) => {
  const options = await kafkaClientOptions(config.kafka, silentLogger())
  const kafka = new Kafka({ ...options, clientId: `${config.kafka.clientId}-audit` })
  const admin = kafka.admin()
  try {
    await admin.connect()
  } catch (err) {
    throw coreUnreachable(`Kafka at ${config.kafka.brokers.join(',')}`, err)
  }
  let high: Map<number, number>
  let start: Map<number, number>
  try {
    const topics = await admin.listTopics()
    if (!topics.includes(topic)) {
      throw new AuditInputError(`Kafka topic ${topic} does not exist at ${config.kafka.brokers.join(',')}`)
    }
    const offsets = await admin.fetchTopicOffsets(topic)
    high = new Map(offsets.map((o) => [o.partition, Number(o.high)]))
    const low = new Map(offsets.map((o) => [o.partition, Number(o.low)]))
    if (from.time !== undefined) {
      const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, from.time)
      start = new Map(byTime.map((o) => [o.partition, Number(o.offset)]))
    } else if (from.offset !== undefined) {
      const offset = Number(from.offset)
      start = new Map([...low].map(([p, l]) => [p, Math.max(l, offset)]))
    } else {
      start = low
    }
  } catch (err) {
    await admin.disconnect().catch(() => undefined)
    throw err
  }
  let expected = 0
  for (const [p, h] of high) expected += Math.max(0, h - (start.get(p) ?? h))
  const groupId = `edgebridge-audit-${randomUUID()}`
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: MAX_BYTES_PER_PARTITION })

  async function* records(): AsyncGenerator<AuditedRecord> {
    const remaining = new Set([...high].filter(([p, h]) => (start.get(p) ?? h) < h).map(([p]) => p))
    if (remaining.size === 0) return
    const queue: AuditedRecord[][] = []
    let wake: (() => void) | undefined
    let failure: unknown
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    /** Per partition, the next offset to yield: what a restarted consumer reads again is skipped. */
    const next = new Map(start)
    consumer.on(consumer.events.CRASH, (e) => {
      if (e.payload.restart) return // retriable: kafkajs joins the group again and reads on
      failure = e.payload.error
      wake?.()
    })
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const end = high.get(batch.partition) ?? 0
        const out: AuditedRecord[] = []
        for (const m of batch.messages) {
          const offset = Number(m.offset)
          if (offset >= end) break
          if (offset < (next.get(batch.partition) ?? 0)) continue
          next.set(batch.partition, offset + 1)
          out.push({
            gatewayId: header(m.headers, PROVENANCE.gatewayId),
            seq: parseSeq(header(m.headers, PROVENANCE.seq)),
            clientId: header(m.headers, PROVENANCE.clientId),
          })
          if (offset === end - 1) remaining.delete(batch.partition)
        }
        if (batch.messages.length > 0 && Number(batch.lastOffset()) >= end - 1)
          remaining.delete(batch.partition)
        queue.push(out)
        wake?.()
        // Keep at most a few batches buffered: the audit's memory stays flat.
        while (queue.length > 4 && failure === undefined) await new Promise<void>((r) => setTimeout(r, 5))
      },
    })
    for (const [p, offset] of start) {
      if (remaining.has(p)) consumer.seek({ topic, partition: p, offset: String(offset) })
    }
    for (;;) {
      const batch = queue.shift()
      if (batch !== undefined) {
        yield* batch
        continue
      }
      if (failure !== undefined) throw coreUnreachable(`Kafka at ${config.kafka.brokers.join(',')}`, failure)
      if (remaining.size === 0) return
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, 200)
      })
      wake = undefined
    }
  }

  const source: AuditSource = {
    expected,
    description: `Kafka topic ${topic} (${high.size} partitions)`,
    records,
    async close() {
      await consumer.disconnect().catch(() => undefined)
      await admin.deleteGroups([groupId]).catch(() => undefined)
      await admin.disconnect().catch(() => undefined)
    },
  }
  return source
}
