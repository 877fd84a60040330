/**
 * The backend conformance suite: one set of tests every backend must pass against its REAL server, in the
 * manner of aedes' `abstract` persistence tests.
 *
 * A backend's test file (test/conformance/<backend>.test.ts) calls `defineBackendConformance(spec)` once at
 * top level; the suite registers the node:test cases under `conformance <spec.name> - ...`.
 *
 * What the spec promises the suite (keep this type stable: every backend's test file codes against it):
 * - `config({ target, address })` returns a complete EdgebridgeConfig (build it with testConfig()) with
 *   `core.backend` set and, when `address` is given, pointing the backend at that server instead of the
 *   shared one. `target` is unique per test; configure anything the core needs for it (a JetStream stream
 *   whose subjects cover it, a Kafka topic to create...).
 * - `consume(config, target)` resolves once it is ready to see everything `send` delivers to `target` from
 *   now on (subscribed, or reading the stream/topic from its beginning) and pushes each arrival into
 *   `received`, in the order the core delivers them. `close()` stops it and is safe twice.
 * - `expectedMetadata` spells out, literally, the headers (or stream fields) the consumer must see with
 *   each of the two PROVENANCE_RECORDS: exactly those, no more; undefined when the backend carries
 *   none (Redis pub/sub). Never build it with the code under test (`provenanceHeaders`): names and
 *   value formats are a contract with consumers at the core, and a test that asks the code what to
 *   expect cannot see the code change.
 * - `startPrivateServer()` starts a server of the backend's kind that only this test uses, on its own port,
 *   so the reconnect case can stop and start it. Never hand out the machine's shared server here.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import type { Backend } from '../../src/backends/backend.js'
import { loadBackendFactory } from '../../src/backends/registry.js'
import type { BackendName, EdgebridgeConfig } from '../../src/config/types.js'
import { BackendError, EdgebridgeError } from '../../src/errors.js'
import { silentLogger } from '../../src/observability/logger.js'
import type { SpooledRecord } from '../../src/record.js'
import { uniqueName } from '../support/env.js'

/** One message as the consumer saw it at the core. */
export interface ReceivedMessage {
  payload: Buffer
  /** Headers (NATS, JetStream, Kafka) or stream fields other than the payload (Redis Streams). */
  metadata?: Record<string, string>
}

export interface ConformanceConsumer {
  /** Every message seen so far, in arrival order. The suite polls it. */
  readonly received: ReceivedMessage[]
  close(): Promise<void>
}

/** A server the test owns: stop() and start() again on the same port, with the same storage. */
export interface ConformanceServer {
  /** What `config({ address })` needs to reach it: a URL (redis://, nats://) or host:port list. */
  readonly address: string
  stop(): Promise<void>
  start(): Promise<void>
  /** Stop for good and remove its storage. Safe twice. */
  close(): Promise<void>
}

export interface BackendConformanceSpec {
  /** Shown in test names; usually the backend name. */
  name: string
  backend: BackendName
  config(options: { target: string; address?: string }): EdgebridgeConfig
  consume(config: EdgebridgeConfig, target: string): Promise<ConformanceConsumer>
  expectedMetadata: { withUser: Record<string, string>; withoutUser: Record<string, string> } | undefined
  startPrivateServer(): Promise<ConformanceServer>
  /** Largest payload the core carries with this backend's framing; the large-payload case uses
   *  min(1 MiB, this). Default 1 MiB. */
  maxPayloadBytes?: number
  /** How long to wait for messages to arrive at the consumer; default 15 s. Kafka may want more. */
  receiveTimeoutMs?: number
}

export const MIB = 1024 * 1024
const DEFAULT_RECEIVE_TIMEOUT_MS = 15_000
/** How long the reconnect case lets a send run while the server is down before calling it "blocked". */
const OUTAGE_SEND_WINDOW_MS = 3_000
/** How long, after the server is back, the backend may take to send again (its client reconnects). */
const RECOVERY_TIMEOUT_MS = 30_000

let seqCounter = 0

/** Records as the spool would hand them out: consecutive seq, one device, payload given per record. */
export function makeRecords(
  target: string,
  payloads: Buffer[],
  overrides: Partial<SpooledRecord> = {},
): SpooledRecord[] {
  return payloads.map((payload) => ({
    topic: 'devices/sensor-1/temp',
    payload,
    qos: 1,
    retain: false,
    clientId: 'sensor-1',
    gatewayId: 'test-gw',
    receivedAt: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
    target,
    key: 'sensor-1',
    codec: 'raw',
    seq: ++seqCounter,
    ...overrides,
  }))
}

/**
 * The two records the provenance case sends, every field fixed so that each backend's test file can
 * write down what its consumer must see. The second has another QoS, no retain, no username and a
 * receive time whose milliseconds need zero padding.
 */
export const PROVENANCE_RECORDS = {
  withUser: {
    topic: 'devices/sensor-1/temp',
    payload: Buffer.from('a'),
    qos: 2,
    retain: true,
    clientId: 'sensor-1',
    username: 'alice',
    gatewayId: 'test-gw',
    receivedAt: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
    key: 'sensor-1',
    codec: 'raw',
    seq: 9001,
  },
  withoutUser: {
    topic: 'devices/sensor-2/hum',
    payload: Buffer.from('b'),
    qos: 0,
    retain: false,
    clientId: 'sensor-2',
    gatewayId: 'test-gw',
    receivedAt: Date.UTC(2024, 11, 31, 23, 59, 58, 7),
    key: 'sensor-2',
    codec: 'raw',
    seq: 9002,
  },
} as const satisfies Record<string, Omit<SpooledRecord, 'target'>>

/**
 * The provenance headers of PROVENANCE_RECORDS as a consumer reads them from Kafka or NATS (the
 * README's backend table lists the same names and formats).
 */
export const PROVENANCE_HEADERS = {
  withUser: {
    'mqtt.topic': 'devices/sensor-1/temp',
    'mqtt.qos': '2',
    'mqtt.retain': 'true',
    'client.id': 'sensor-1',
    'gateway.id': 'test-gw',
    'received.at': '2024-01-02T03:04:05.678Z',
    seq: '9001',
    'mqtt.username': 'alice',
  },
  withoutUser: {
    'mqtt.topic': 'devices/sensor-2/hum',
    'mqtt.qos': '0',
    'mqtt.retain': 'false',
    'client.id': 'sensor-2',
    'gateway.id': 'test-gw',
    'received.at': '2024-12-31T23:59:58.007Z',
    seq: '9002',
  },
}

/** Wait until `cond` holds, polling; fail with `what` after timeoutMs. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what()}`)
    await delay(20)
  }
}

function payloadsOf(consumer: ConformanceConsumer): string[] {
  return consumer.received.map((m) => m.payload.toString('utf8'))
}

/** Registers the conformance cases for one backend. Call once, at the top level of a test file. */
export function defineBackendConformance(spec: BackendConformanceSpec): void {
  const receiveTimeout = spec.receiveTimeoutMs ?? DEFAULT_RECEIVE_TIMEOUT_MS

  describe(`conformance ${spec.name}`, () => {
    // Everything a case opens is closed even when the case fails, so the process can exit.
    const cleanups: (() => Promise<unknown>)[] = []
    const track = <T extends { close(): Promise<unknown> }>(thing: T): T => {
      cleanups.push(() => thing.close())
      return thing
    }
    after(async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined)
    })

    async function open(target: string, address?: string) {
      const config = spec.config({ target, address })
      assert.equal(config.core.backend, spec.backend, 'spec.config must select the backend under test')
      const factory = await loadBackendFactory(spec.backend)
      const backend: Backend = track(factory(config, { logger: silentLogger() }))
      await backend.connect()
      const consumer = track(await spec.consume(config, target))
      return { config, backend, consumer }
    }

    test(`conformance ${spec.name} - delivers a record and names itself`, async () => {
      const target = uniqueName('conf-deliver')
      const { backend, consumer } = await open(target)
      assert.equal(backend.name, spec.backend)
      await backend.send(makeRecords(target, [Buffer.from('hello core')]))
      await waitFor(
        () => consumer.received.length >= 1,
        receiveTimeout,
        () => 'one message',
      )
      assert.deepEqual(payloadsOf(consumer), ['hello core'])
      assert.equal(backend.isConnected(), true)
    })

    test(`conformance ${spec.name} - keeps the order of 1,000 records sent in batches`, async () => {
      const target = uniqueName('conf-order')
      const { backend, consumer } = await open(target)
      const expected = Array.from({ length: 1000 }, (_, i) => `m-${i}`)
      const records = makeRecords(
        target,
        expected.map((p) => Buffer.from(p)),
      )
      for (let i = 0; i < records.length; i += 250) await backend.send(records.slice(i, i + 250))
      await waitFor(
        () => consumer.received.length >= expected.length,
        receiveTimeout,
        () => `1000 messages, got ${consumer.received.length}`,
      )
      assert.deepEqual(payloadsOf(consumer), expected)
    })

    test(`conformance ${spec.name} - carries a large payload intact`, async () => {
      const target = uniqueName('conf-large')
      const { backend, consumer } = await open(target)
      const size = Math.min(MIB, spec.maxPayloadBytes ?? MIB)
      const payload = Buffer.alloc(size)
      for (let i = 0; i < size; i++) payload[i] = (i * 31 + 7) & 0xff
      await backend.send(makeRecords(target, [payload]))
      await waitFor(
        () => consumer.received.length >= 1,
        receiveTimeout,
        () => `one ${size}-byte message`,
      )
      assert.equal(consumer.received[0]!.payload.length, size)
      assert.ok(consumer.received[0]!.payload.equals(payload), 'large payload arrived altered')
    })

    test(`conformance ${spec.name} - carries binary payloads byte for byte`, async () => {
      const target = uniqueName('conf-binary')
      const { backend, consumer } = await open(target)
      const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
      const zeros = Buffer.from([0, 0, 0x41, 0, 0xff, 0xfe, 0x0d, 0x0a, 0])
      const invalidUtf8 = Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1])
      const empty = Buffer.alloc(0)
      const payloads = [allBytes, zeros, invalidUtf8, empty]
      await backend.send(makeRecords(target, payloads))
      await waitFor(
        () => consumer.received.length >= payloads.length,
        receiveTimeout,
        () => '4 binary messages',
      )
      consumer.received.forEach((m, i) => {
        assert.ok(
          m.payload.equals(payloads[i]!),
          `binary payload #${i} altered: ${m.payload.toString('hex')}`,
        )
      })
    })

    test(`conformance ${spec.name} - carries the record's provenance where the backend has metadata`, async () => {
      const target = uniqueName('conf-meta')
      const { backend, consumer } = await open(target)
      const sent = [PROVENANCE_RECORDS.withUser, PROVENANCE_RECORDS.withoutUser].map((r): SpooledRecord => ({
        ...r,
        target,
      }))
      await backend.send(sent)
      await waitFor(
        () => consumer.received.length >= 2,
        receiveTimeout,
        () => 'two messages',
      )
      assert.deepEqual(
        consumer.received.map((m) => m.payload.toString()),
        ['a', 'b'],
      )
      const expected = spec.expectedMetadata
      if (expected === undefined) return
      // Exactly these: a missing header, another format, or one too many (a username on a record that
      // has none) all fail.
      assert.deepEqual(consumer.received[0]!.metadata, expected.withUser, 'metadata of the first record')
      assert.deepEqual(consumer.received[1]!.metadata, expected.withoutUser, 'metadata of the second record')
    })

    test(`conformance ${spec.name} - fails retriably or waits while the core is down, then recovers`, async () => {
      const server = track(await spec.startPrivateServer())
      const target = uniqueName('conf-outage')
      const config = spec.config({ target, address: server.address })
      const factory = await loadBackendFactory(spec.backend)
      const backend = track(factory(config, { logger: silentLogger() }))
      await backend.connect()
      await sendWithRetry(backend, makeRecords(target, [Buffer.from('before')]), RECOVERY_TIMEOUT_MS)

      await server.stop()
      const during = makeRecords(target, [Buffer.from('during')])
      const outcome = await settleWithin(backend.send(during), OUTAGE_SEND_WINDOW_MS)
      if (outcome.state === 'rejected') {
        assert.ok(
          outcome.error instanceof BackendError,
          `expected BackendError, got ${String(outcome.error)}`,
        )
        assert.equal(outcome.error.retriable, true, 'a core that is down must be a retriable failure')
      } else {
        assert.equal(outcome.state, 'pending', 'send must not report success while the core is down')
      }
      // The client may learn of the closed socket a moment after a send failed on it.
      await waitFor(
        () => !backend.isConnected(),
        5000,
        () => 'isConnected() to turn false while the core is down',
      )

      await server.start()
      if (outcome.state === 'pending') {
        // A send that blocked must settle once the core is back: resolve, or fail retriably.
        await outcome.promise.catch((err: unknown) => {
          assert.ok(err instanceof EdgebridgeError && err.retriable, `blocked send failed: ${String(err)}`)
        })
      }
      // For pub/sub cores the consumer must be subscribed before the send it is to see.
      const consumer = track(await spec.consume(config, target))
      await sendWithRetry(backend, makeRecords(target, [Buffer.from('after')]), RECOVERY_TIMEOUT_MS)
      await waitFor(
        () => payloadsOf(consumer).includes('after'),
        receiveTimeout,
        () => `"after" at the consumer, got ${JSON.stringify(payloadsOf(consumer))}`,
      )
      assert.equal(backend.isConnected(), true)
    })

    test(`conformance ${spec.name} - close is safe twice and send after close fails`, async () => {
      const target = uniqueName('conf-close')
      const config = spec.config({ target })
      const factory = await loadBackendFactory(spec.backend)
      const backend = factory(config, { logger: silentLogger() })
      await backend.connect()
      await backend.close()
      await backend.close()
      assert.equal(backend.isConnected(), false)
      await assert.rejects(backend.send(makeRecords(target, [Buffer.from('late')])), (err: unknown) => {
        assert.ok(err instanceof BackendError)
        assert.equal(err.code, 'BACKEND_CLOSED')
        return true
      })
    })

    test(`conformance ${spec.name} - close is safe without connect`, async () => {
      const factory = await loadBackendFactory(spec.backend)
      const backend = factory(spec.config({ target: uniqueName('conf-noconn') }), { logger: silentLogger() })
      await backend.close()
      await backend.close()
    })
  })
}

type Settled<T> =
  | { state: 'resolved'; value: T }
  | { state: 'rejected'; error: unknown }
  | { state: 'pending'; promise: Promise<T> }

async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<Settled<T>> {
  const ac = new AbortController()
  const timer = delay(ms, 'pending' as const, { signal: ac.signal }).catch(() => 'aborted' as const)
  const raced = await Promise.race([
    promise.then(
      (value) => ({ state: 'resolved' as const, value }),
      (error: unknown) => ({ state: 'rejected' as const, error }),
    ),
    timer.then(() => ({ state: 'pending' as const, promise })),
  ])
  ac.abort()
  return raced
}

/** What the forwarder does: send the batch again on retriable failures, until the deadline. */
async function sendWithRetry(backend: Backend, batch: SpooledRecord[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await backend.send(batch)
      return
    } catch (err) {
      if (!(err instanceof EdgebridgeError) || !err.retriable || Date.now() > deadline) throw err
      await delay(100)
    }
  }
}
