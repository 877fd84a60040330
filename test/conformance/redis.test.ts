/** The conformance suite against a real Redis server, pub/sub (`redis` backend). */
import { Redis } from 'ioredis'
import { startRedisServer } from '../support/servers.js'
import { testConfig } from '../support/config.js'
import { defineBackendConformance, type ConformanceConsumer, type ReceivedMessage } from './suite.js'
import type { EdgebridgeConfig } from '../../src/config/types.js'

/** Subscribes to the channel; resolves once the server confirmed the subscription. */
export async function redisChannelConsumer(
  config: EdgebridgeConfig,
  channel: string,
): Promise<ConformanceConsumer> {
  const client = new Redis(config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 })
  client.on('error', () => undefined)
  const received: ReceivedMessage[] = []
  client.on('messageBuffer', (_channel: Buffer, message: Buffer) => received.push({ payload: message }))
  await client.connect()
  await client.subscribe(channel)
  let closed = false
  return {
    received,
    close: async () => {
      if (closed) return
      closed = true
      client.disconnect()
    },
  }
}

defineBackendConformance({
  name: 'redis',
  backend: 'redis',
  config: ({ address }) =>
    testConfig({ core: { backend: 'redis' }, redis: address === undefined ? {} : { url: address } }),
  consume: redisChannelConsumer,
  expectedMetadata: undefined,
  startPrivateServer: async () => {
    const server = await startRedisServer()
    return { address: server.url, stop: server.stop, start: server.start, close: server.close }
  },
})
