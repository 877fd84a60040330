/** The conformance suite against a real NATS server with JetStream (`jetstream` backend). */
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { setTimeout as delay } from 'node:timers/promises'
import { startNatsServer } from '../support/servers.js'
import { testConfig } from '../support/config.js'
import {
  defineBackendConformance,
  PROVENANCE_HEADERS,
  type ConformanceConsumer,
  type ReceivedMessage,
} from './suite.js'
import { headersToObject, NATS_MAX_TEST_PAYLOAD } from './nats-consumers.js'
import type { EdgebridgeConfig } from '../../src/config/types.js'

const STREAM_WAIT_MS = 15_000

export function streamNameFor(target: string): string {
  return `S-${target}`
}

/**
 * Reads the stream from its first message with an ordered consumer. The backend creates the stream
 * (nats.stream.create): this waits for it rather than creating it, so the test sees the backend's work.
 */
export async function jetStreamConsumer(
  config: EdgebridgeConfig,
  _subject: string,
): Promise<ConformanceConsumer> {
  const nc = await connect({ servers: config.nats.servers })
  const name = config.nats.stream.name
  const jsm = await jetstreamManager(nc)
  const deadline = Date.now() + STREAM_WAIT_MS
  for (;;) {
    try {
      await jsm.streams.info(name)
      break
    } catch (err) {
      if (Date.now() > deadline) {
        await nc.close()
        throw err
      }
      await delay(50)
    }
  }
  const consumer = await jetstream(nc).consumers.get(name)
  const messages = await consumer.consume()
  const received: ReceivedMessage[] = []
  const loop = (async () => {
    for await (const m of messages)
      received.push({ payload: Buffer.from(m.data), metadata: headersToObject(m.headers) })
  })()
  let closed = false
  return {
    received,
    close: async () => {
      if (closed) return
      closed = true
      await messages.close()
      await loop.catch(() => undefined)
      // The shared server keeps nothing of a test run.
      await jsm.streams.delete(name).catch(() => undefined)
      await nc.close()
    },
  }
}

defineBackendConformance({
  name: 'jetstream',
  backend: 'jetstream',
  config: ({ target, address }) =>
    testConfig({
      core: { backend: 'jetstream' },
      nats: {
        ...(address === undefined ? {} : { servers: [address] }),
        stream: { name: streamNameFor(target), subjects: [target], create: true },
      },
    }),
  consume: jetStreamConsumer,
  // JetStream de-duplicates on Nats-Msg-Id: `<gateway id>:<seq>:<received at, ms since the epoch>`.
  expectedMetadata: {
    withUser: { ...PROVENANCE_HEADERS.withUser, 'Nats-Msg-Id': 'test-gw:9001:1704164645678' },
    withoutUser: { ...PROVENANCE_HEADERS.withoutUser, 'Nats-Msg-Id': 'test-gw:9002:1735689598007' },
  },
  startPrivateServer: async () => {
    const server = await startNatsServer()
    return { address: server.url, stop: server.stop, start: server.start, close: server.close }
  },
  maxPayloadBytes: NATS_MAX_TEST_PAYLOAD,
})
