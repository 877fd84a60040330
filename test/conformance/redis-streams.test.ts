/** The conformance suite against a real Redis server, Streams (`redis-streams` backend). */
import { Redis } from 'ioredis'
import { startRedisServer } from '../support/servers.js'
import { testConfig } from '../support/config.js'
import {
  defineBackendConformance,
  PROVENANCE_HEADERS,
  type ConformanceConsumer,
  type ReceivedMessage,
} from './suite.js'
import type { EdgebridgeConfig } from '../../src/config/types.js'

const POLL_MS = 25

/** Reads the stream from its beginning, polling XRANGE after the last entry seen. */
export async function redisStreamConsumer(
  config: EdgebridgeConfig,
  key: string,
): Promise<ConformanceConsumer> {
  const client = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  client.on('error', () => undefined)
  await client.connect()
  const received: ReceivedMessage[] = []
  let lastId = '-'
  let closed = false
  const poll = async () => {
    while (!closed) {
      const entries = await client
        .xrangeBuffer(key, lastId === '-' ? '-' : `(${lastId}`, '+', 'COUNT', 500)
        .catch(() => [])
      for (const [id, flat] of entries) {
        lastId = id.toString()
        const metadata: Record<string, string> = {}
        let payload: Buffer = Buffer.alloc(0)
        for (let i = 0; i < flat.length; i += 2) {
          const field = flat[i]!.toString()
          if (field === 'payload') payload = flat[i + 1]!
          else metadata[field] = flat[i + 1]!.toString()
        }
        received.push({ payload, metadata })
      }
      if (entries.length === 0) await new Promise((r) => setTimeout(r, POLL_MS))
    }
  }
  const loop = poll()
  return {
    received,
    close: async () => {
      if (closed) return
      closed = true
      await loop
      // The shared server keeps nothing of a test run.
      await client.del(key).catch(() => undefined)
      client.disconnect()
    },
  }
}

defineBackendConformance({
  name: 'redis-streams',
  backend: 'redis-streams',
  config: ({ address }) =>
    testConfig({ core: { backend: 'redis-streams' }, redis: address === undefined ? {} : { url: address } }),
  consume: redisStreamConsumer,
  // Stream fields next to `payload`: the same names and formats as the Kafka and NATS headers.
  expectedMetadata: PROVENANCE_HEADERS,
  startPrivateServer: async () => {
    const server = await startRedisServer()
    return { address: server.url, stop: server.stop, start: server.start, close: server.close }
  },
})
