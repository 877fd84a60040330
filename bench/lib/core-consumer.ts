/**
 * A consumer on the core for each backend: it hands every message's payload to `onPayload` as soon
 * as the backend's own client delivers it. This is where latency ends, for edgebridge and for the
 * direct-publish reference alike.
 */
import { Redis } from 'ioredis'
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node'
import { Kafka, logLevel, type Consumer } from 'kafkajs'
import type { CoreEndpoint } from './core-endpoint.js'

export interface CoreConsumer {
  close(): Promise<void>
}

export async function startCoreConsumer(
  endpoint: CoreEndpoint,
  target: string,
  onPayload: (payload: Uint8Array) => void,
): Promise<CoreConsumer> {
  switch (endpoint.backend) {
    case 'redis':
      return redisSubscriber(endpoint.redisUrl, target, onPayload)
    case 'redis-streams':
      return redisStreamReader(endpoint.redisUrl, target, onPayload)
    case 'nats':
    case 'jetstream':
      // A JetStream publish is also delivered to core subscribers of the subject; subscribing
      // directly measures when the message reached the server, not a consumer's redelivery pace.
      return natsSubscriber(endpoint.natsServers, target, onPayload)
    case 'kafka':
      return kafkaConsumer(endpoint.kafkaBrokers, target, onPayload)
  }
}

async function redisSubscriber(
  url: string,
  channel: string,
  onPayload: (p: Uint8Array) => void,
): Promise<CoreConsumer> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  redis.on('error', () => undefined) // connect() rejects with the first error; later ones reconnect
  await redis.connect()
  redis.on('messageBuffer', (_channel: Buffer, message: Buffer) => onPayload(message))
  await redis.subscribe(channel)
  return { close: async () => void redis.disconnect() }
}

async function redisStreamReader(
  url: string,
  key: string,
  onPayload: (p: Uint8Array) => void,
): Promise<CoreConsumer> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null })
  redis.on('error', () => undefined) // connect() rejects with the first error; later ones reconnect
  await redis.connect()
  let closed = false
  let lastId = '0'
  const loop = (async () => {
    while (!closed) {
      let reply: [Buffer, [Buffer, Buffer[]][]][] | null
      try {
        reply = (await redis.xreadBuffer('COUNT', 1000, 'BLOCK', 500, 'STREAMS', key, lastId)) as typeof reply
      } catch {
        if (closed) return
        await new Promise((res) => setTimeout(res, 50))
        continue
      }
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          lastId = id.toString()
          // Fields alternate name, value; the backend writes the payload under "payload".
          for (let i = 0; i + 1 < fields.length; i += 2) {
            if (fields[i]!.toString() === 'payload') onPayload(fields[i + 1]!)
          }
        }
      }
    }
  })()
  return {
    close: async () => {
      closed = true
      redis.disconnect()
      await loop
      await redis.del(key).catch(() => undefined)
    },
  }
}

async function natsSubscriber(
  servers: string[],
  subject: string,
  onPayload: (p: Uint8Array) => void,
): Promise<CoreConsumer> {
  const nc: NatsConnection = await connect({ servers, name: 'edgebridge-bench-consumer' })
  const sub: Subscription = nc.subscribe(subject, { callback: (_err, msg) => onPayload(msg.data) })
  await nc.flush()
  return {
    close: async () => {
      sub.unsubscribe()
      await nc.close()
    },
  }
}

async function kafkaConsumer(
  brokers: string[],
  topic: string,
  onPayload: (p: Uint8Array) => void,
): Promise<CoreConsumer> {
  const kafka = new Kafka({ brokers, clientId: 'edgebridge-bench-consumer', logLevel: logLevel.NOTHING })
  await ensureKafkaTopic(brokers, topic)
  const consumer: Consumer = kafka.consumer({ groupId: `${topic}-consumer`, maxWaitTimeInMs: 100 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const joined = new Promise<void>((res) => consumer.on(consumer.events.GROUP_JOIN, () => res()))
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) if (m.value !== null) onPayload(m.value)
    },
  })
  await joined
  return { close: () => consumer.disconnect() }
}

/** Creates the topic (one partition) when missing, so the consumer can join before anything is sent. */
export async function ensureKafkaTopic(brokers: string[], topic: string): Promise<void> {
  const kafka = new Kafka({ brokers, clientId: 'edgebridge-bench-admin', logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
    })
  } finally {
    await admin.disconnect()
  }
}
