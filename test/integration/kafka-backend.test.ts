import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { decode } from '@msgpack/msgpack'
import { Kafka, logLevel } from 'kafkajs'
import { createKafkaBackend } from '../../src/backends/kafka/kafka-backend.js'
import { CLOUDEVENTS_TYPE } from '../../src/backends/kafka/codecs.js'
import { readTopicDurability } from '../../src/backends/kafka/topic-durability.js'
import type { Backend } from '../../src/backends/backend.js'
import type { EdgebridgeConfig, KafkaConfig } from '../../src/config/types.js'
import { BackendError } from '../../src/errors.js'
import { silentLogger } from '../../src/observability/logger.js'
import { type Codec, type SpooledRecord } from '../../src/record.js'
import { testConfig } from '../support/config.js'
import { captureLog } from '../support/log-capture.js'
import { testKafkaBrokers, uniqueName } from '../support/env.js'
import { consumeTopic, createTopic, topicExists, type TopicConsumer } from '../kafka/consume.js'
import { waitFor } from '../conformance/suite.js'

const RECEIVE_TIMEOUT_MS = 30_000
const cleanups: (() => Promise<unknown>)[] = []
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined)
})

function config(kafka: Partial<KafkaConfig> = {}): EdgebridgeConfig {
  return testConfig({ core: { backend: 'kafka' }, kafka: { brokers: testKafkaBrokers(), ...kafka } })
}

async function backendFor(kafka: Partial<KafkaConfig> = {}): Promise<Backend> {
  const backend = createKafkaBackend(config(kafka), { logger: silentLogger() })
  cleanups.push(() => backend.close())
  await backend.connect()
  return backend
}

async function consumer(topic: string): Promise<TopicConsumer> {
  const c = await consumeTopic(testKafkaBrokers(), topic)
  cleanups.push(() => c.close())
  return c
}

let seq = 0
function record(target: string, clientId: string, payload: Buffer, codec: Codec = 'raw'): SpooledRecord {
  return {
    topic: `devices/${clientId}/data`,
    payload,
    qos: 1,
    retain: false,
    clientId,
    gatewayId: 'gw-test',
    receivedAt: Date.UTC(2024, 5, 6, 7, 8, 9, 10),
    target,
    key: clientId,
    codec,
    seq: ++seq,
  }
}

test('kafka backend - keeps each device in order on one partition of a 6-partition topic', async () => {
  const topic = uniqueName('kafka-order')
  await createTopic(testKafkaBrokers(), topic, 6)
  const backend = await backendFor()
  const devices = Array.from({ length: 50 }, (_, i) => `device-${i}`)
  const perDevice = 20
  // Interleaved as a gateway sees them: device 0 msg 0, device 1 msg 0, ..., device 0 msg 1, ...
  const records: SpooledRecord[] = []
  for (let n = 0; n < perDevice; n++) {
    for (const d of devices) records.push(record(topic, d, Buffer.from(`${d}:${n}`)))
  }
  for (let i = 0; i < records.length; i += 137) await backend.send(records.slice(i, i + 137))

  const c = await consumer(topic)
  await waitFor(
    () => c.received.length >= records.length,
    RECEIVE_TIMEOUT_MS,
    () => `${records.length} messages, got ${c.received.length}`,
  )
  assert.equal(c.received.length, records.length)
  const partitionsUsed = new Set(c.received.map((m) => m.partition))
  assert.ok(partitionsUsed.size > 1, 'keys should spread over partitions')
  for (const d of devices) {
    const mine = c.received.filter((m) => m.key === d)
    assert.equal(new Set(mine.map((m) => m.partition)).size, 1, `${d} on more than one partition`)
    // Within one partition the consumer delivers in offset order.
    assert.deepEqual(
      mine.map((m) => m.value.toString()),
      Array.from({ length: perDevice }, (_, n) => `${d}:${n}`),
      `${d} out of order`,
    )
  }
})

test('kafka backend - encodes raw, json, msgpack and CloudEvents values with provenance headers', async () => {
  const topic = uniqueName('kafka-codecs')
  const backend = await backendFor()
  const payload = Buffer.from([0x00, 0xff, 0x10, 0x7b, 0x22])
  const batch = (['raw', 'json', 'msgpack', 'cloudevents'] as const).map((codec) =>
    record(topic, 'sensor-9', payload, codec),
  )
  batch[1]!.username = 'alice'
  await backend.send(batch)
  const c = await consumer(topic)
  await waitFor(
    () => c.received.length >= 4,
    RECEIVE_TIMEOUT_MS,
    () => '4 messages',
  )
  const [raw, json, msgpack, ce] = c.received
  for (const [i, m] of c.received.entries()) {
    assert.equal(m.key, 'sensor-9')
    // Every codec carries the same provenance headers, spelled out here as consumers read them
    // (CloudEvents adds its ce_ attributes, checked below).
    const provenance = Object.fromEntries(Object.entries(m.headers).filter(([k]) => !k.startsWith('ce_')))
    assert.deepEqual(
      provenance,
      {
        'mqtt.topic': 'devices/sensor-9/data',
        'mqtt.qos': '1',
        'mqtt.retain': 'false',
        'client.id': 'sensor-9',
        'gateway.id': 'gw-test',
        'received.at': '2024-06-06T07:08:09.010Z',
        seq: `${batch[i]!.seq}`,
        ...(i === 1 ? { 'mqtt.username': 'alice' } : {}),
      },
      `headers of the ${batch[i]!.codec} record`,
    )
    assert.equal(m.timestamp, '1717657689010', 'Kafka timestamp is the receive time (ms since the epoch)')
  }
  assert.ok(raw!.value.equals(payload))

  const envelope = JSON.parse(json!.value.toString())
  assert.equal(envelope.payloadEncoding, 'base64')
  assert.ok(Buffer.from(envelope.payload, 'base64').equals(payload))
  assert.equal(envelope['mqtt.topic'], 'devices/sensor-9/data')
  assert.equal(envelope['mqtt.username'], 'alice')
  assert.equal(envelope.seq, batch[1]!.seq)
  assert.equal(envelope['received.at'], '2024-06-06T07:08:09.010Z')
  assert.equal(envelope['gateway.id'], 'gw-test')

  // Decoded with a plain msgpack reader's defaults: a plain map, a binary payload.
  const packed = decode(msgpack!.value) as Record<string, unknown>
  assert.ok(packed.payload instanceof Uint8Array && Buffer.from(packed.payload).equals(payload))
  assert.equal(packed['client.id'], 'sensor-9')
  assert.equal(packed['mqtt.qos'], 1)
  assert.equal(packed['mqtt.retain'], false)
  assert.equal(packed['mqtt.username'], undefined)

  assert.ok(ce!.value.equals(payload), 'CloudEvents binary mode carries the payload as the value')
  assert.equal(ce!.headers.ce_specversion, '1.0')
  assert.equal(ce!.headers.ce_id, `gw-test:${batch[3]!.seq}`)
  assert.equal(ce!.headers.ce_source, 'gw-test')
  assert.equal(ce!.headers.ce_type, CLOUDEVENTS_TYPE)
  assert.equal(ce!.headers.ce_time, '2024-06-06T07:08:09.010Z')
  assert.equal(ce!.headers.ce_subject, 'devices/sensor-9/data')
})

test('kafka backend - a missing topic fails retriably with a clear message when createTopics is false', async () => {
  const missing = uniqueName('kafka-missing')
  const existing = uniqueName('kafka-existing')
  await createTopic(testKafkaBrokers(), existing)
  const backend = await backendFor({ createTopics: false })
  await assert.rejects(backend.send([record(missing, 'd1', Buffer.from('x'))]), (err: unknown) => {
    assert.ok(err instanceof BackendError, String(err))
    assert.equal(err.code, 'BACKEND_UNAVAILABLE')
    assert.equal(err.retriable, true)
    assert.match(err.message, new RegExp(`${missing}.*does not exist.*createTopics`))
    return true
  })
  assert.equal(await topicExists(testKafkaBrokers(), missing), false, 'createTopics=false must not create')
  // The failure leaves the producer usable for topics that exist.
  const c = await consumer(existing)
  await backend.send([record(existing, 'd1', Buffer.from('still works'))])
  await waitFor(
    () => c.received.length >= 1,
    RECEIVE_TIMEOUT_MS,
    () => 'the message to the existing topic',
  )

  const creating = await backendFor({ createTopics: true, partitions: 3 })
  await creating.send([record(missing, 'd1', Buffer.from('created'))])
  const c2 = await consumer(missing)
  await waitFor(
    () => c2.received.length >= 1,
    RECEIVE_TIMEOUT_MS,
    () => 'the message to the created topic',
  )
  assert.equal(c2.received[0]!.value.toString(), 'created')
  assert.equal(new Set(c2.received.map((m) => m.partition)).size, 1)
})

test("kafka backend - says at start what each topic's replication makes of acks=-1", async () => {
  // One broker: a topic of a single replica gets the development notice, and the topic's own
  // min.insync.replicas (2 here, the broker default is 1) is what is read back.
  const topic = uniqueName('kafka-durability')
  await createTopic(testKafkaBrokers(), topic, 1, { 'min.insync.replicas': '2' })
  const admin = new Kafka({ brokers: testKafkaBrokers(), logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  cleanups.push(() => admin.disconnect())
  assert.deepEqual(await readTopicDurability(admin, [topic]), [{ topic, replicas: 1, minInsyncReplicas: 2 }])

  const plain = uniqueName('kafka-durability-plain')
  await createTopic(testKafkaBrokers(), plain)
  const log = captureLog('info')
  const backend = createKafkaBackend(config(), { logger: log.logger })
  cleanups.push(() => backend.close())
  await backend.connect()
  await backend.send([record(plain, 'd1', Buffer.from('x'))])
  await backend.send([record(plain, 'd1', Buffer.from('y'))])
  const notices = log.find('single replica')
  assert.equal(notices.length, 1, 'said once per topic')
  assert.equal(notices[0]!.topic, plain)
  assert.equal(notices[0]!.replicas, 1)
})

for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
  test(`kafka backend - ${compression} compression round-trips through the broker`, async () => {
    const topic = uniqueName(`kafka-${compression}`)
    const backend = await backendFor({ compression })
    const payloads = Array.from({ length: 50 }, (_, i) => Buffer.from(`reading ${i} `.repeat(40)))
    await backend.send(payloads.map((p) => record(topic, 'sensor-c', p)))
    const c = await consumer(topic)
    await waitFor(
      () => c.received.length >= payloads.length,
      RECEIVE_TIMEOUT_MS,
      () => `${payloads.length} messages`,
    )
    c.received.forEach((m, i) => assert.ok(m.value.equals(payloads[i]!), `message ${i} altered`))
  })
}

test('kafka backend - an unreachable cluster does not fail connect; send fails retriably', async () => {
  const { createServer } = await import('node:net')
  // A port that was free a moment ago: nothing listens there.
  const port = await new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port
      s.close(() => res(p))
    })
  })
  const backend = createKafkaBackend(
    testConfig({ core: { backend: 'kafka' }, kafka: { brokers: [`127.0.0.1:${port}`] } }),
    { logger: silentLogger() },
  )
  cleanups.push(() => backend.close())
  await backend.connect()
  await assert.rejects(backend.send([record('t', 'd1', Buffer.from('x'))]), (err: unknown) => {
    assert.ok(err instanceof BackendError, String(err))
    assert.equal(err.code, 'BACKEND_UNAVAILABLE')
    assert.equal(err.retriable, true)
    return true
  })
  assert.equal(backend.isConnected(), false)
})
