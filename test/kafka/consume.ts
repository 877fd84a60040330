/**
 * Test helpers that talk to the real broker with plain kafkajs, independent of the backend under
 * test: create a topic, and consume a topic from its beginning into an array.
 */
import { Kafka, logLevel, type IHeaders } from 'kafkajs'
import { registerAllCompressions } from '../../src/backends/kafka/compression.js'
import { uniqueName } from '../support/env.js'

export interface ConsumedMessage {
  topic: string
  partition: number
  offset: string
  key: string | null
  value: Buffer
  headers: Record<string, string>
  timestamp: string
}

export interface TopicConsumer {
  readonly received: ConsumedMessage[]
  close(): Promise<void>
}

const MAX_MESSAGE_BYTES = 2 * 1024 * 1024 // room for a 1 MiB payload plus headers and framing

function client(brokers: string[]): Kafka {
  return new Kafka({ brokers, clientId: 'edgebridge-test-consumer', logLevel: logLevel.NOTHING })
}

/** Creates `topic` (no error when it exists) with room for 1 MiB payloads. */
export async function createTopic(
  brokers: string[],
  topic: string,
  partitions = 1,
  config: Record<string, string> = {},
): Promise<void> {
  const admin = client(brokers).admin()
  await admin.connect()
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
          configEntries: [
            { name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) },
            ...Object.entries(config).map(([name, value]) => ({ name, value })),
          ],
        },
      ],
    })
  } finally {
    await admin.disconnect()
  }
}

export async function topicExists(brokers: string[], topic: string): Promise<boolean> {
  const admin = client(brokers).admin()
  await admin.connect()
  try {
    return (await admin.listTopics()).includes(topic)
  } finally {
    await admin.disconnect()
  }
}

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue
    out[k] = Array.isArray(v) ? v.map((x) => x.toString()).join(',') : v.toString()
  }
  return out
}

/** Reads `topic` from its beginning with a fresh consumer group; every message lands in `received`. */
export async function consumeTopic(brokers: string[], topic: string): Promise<TopicConsumer> {
  await registerAllCompressions()
  const consumer = client(brokers).consumer({
    groupId: uniqueName('edgebridge-test'),
    maxBytesPerPartition: MAX_MESSAGE_BYTES,
  })
  const received: ConsumedMessage[] = []
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ topic: t, partition, message }) => {
      received.push({
        topic: t,
        partition,
        offset: message.offset,
        key: message.key === null ? null : message.key.toString(),
        value: message.value ?? Buffer.alloc(0),
        headers: headersToStrings(message.headers),
        timestamp: message.timestamp,
      })
    },
  })
  let closed = false
  return {
    received,
    close: async () => {
      if (closed) return
      closed = true
      await consumer.disconnect()
    },
  }
}
