/**
 * The whole daemon in process (disk spool, real backend, real MQTT client) for each backend: what a
 * device publishes with QoS 1 reaches the core where the README says it does.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { connect as natsConnect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { Daemon } from '../../src/daemon.js'
import { silentLogger } from '../../src/observability/logger.js'
import type { EdgebridgeConfig } from '../../src/config/types.js'
import { testConfig } from '../support/config.js'
import { connectDevice } from '../support/ingress.js'
import { testKafkaBrokers, testNatsUrl, testRedisUrl, uniqueName } from '../support/env.js'
import { natsSubjectConsumer } from '../conformance/nats-consumers.js'
import { consumeTopic } from '../kafka/consume.js'
import { settlesWithin, waitUntil } from '../support/wait-until.js'

const dirs: string[] = []
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

async function startDaemon(
  overrides: Parameters<typeof testConfig>[0],
): Promise<{ daemon: Daemon; url: string; config: EdgebridgeConfig }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'edgebridge-e2e-'))
  dirs.push(dataDir)
  const config = testConfig({ ...overrides, dataDir, spool: { kind: 'disk', fsync: 'always' } })
  const daemon = await Daemon.start(config, silentLogger())
  return { daemon, url: `mqtt://127.0.0.1:${daemon.ingress.ports()[0]}`, config }
}

describe('daemon - end to end through each backend', () => {
  it('daemon - a QoS 1 publish to sensors/a/temp reaches a Redis subscriber on that channel', async () => {
    const prefix = `${uniqueName('e2e')}/`
    const sub = new Redis(testRedisUrl())
    const got: Array<[string, string]> = []
    sub.on('message', (channel: string, message: string) => got.push([channel, message]))
    await sub.subscribe(`${prefix}sensors/a/temp`)
    const { daemon, url } = await startDaemon({ core: { backend: 'redis' }, redis: { prefix } })
    const device = await connectDevice(url, 'e2e-redis')
    await device.publishAsync('sensors/a/temp', '21.5', { qos: 1 })
    await waitUntil(() => got.length === 1, 10_000, 'message in Redis')
    assert.deepEqual(got[0], [`${prefix}sensors/a/temp`, '21.5'])
    await device.endAsync()
    await daemon.stop()
    sub.disconnect()
  })

  it('daemon - with the nats backend it reaches subject sensors.a.temp with provenance headers', async () => {
    const prefix = uniqueName('e2e').replace(/-/g, '_')
    const consumer = await natsSubjectConsumer(testConfig(), `${prefix}.sensors.a.temp`)
    const { daemon, url } = await startDaemon({
      core: { backend: 'nats' },
      nats: { servers: [testNatsUrl()], subjectPrefix: prefix },
    })
    const device = await connectDevice(url, 'e2e-nats')
    await device.publishAsync('sensors/a/temp', '21.5', { qos: 1 })
    await waitUntil(() => consumer.received.length === 1, 10_000, 'message on NATS')
    assert.equal(consumer.received[0]!.payload.toString(), '21.5')
    assert.equal(consumer.received[0]!.metadata?.['mqtt.topic'], 'sensors/a/temp')
    assert.equal(consumer.received[0]!.metadata?.['client.id'], 'e2e-nats')
    await device.endAsync()
    await daemon.stop()
    await consumer.close()
  })

  it('daemon - with the jetstream backend the message lands in the stream', async () => {
    const prefix = uniqueName('e2e').replace(/-/g, '_')
    const stream = prefix.toUpperCase()
    const { daemon, url } = await startDaemon({
      core: { backend: 'jetstream' },
      nats: {
        servers: [testNatsUrl()],
        subjectPrefix: prefix,
        stream: { name: stream, subjects: [`${prefix}.>`], create: true },
      },
    })
    const device = await connectDevice(url, 'e2e-js')
    await device.publishAsync('sensors/a/temp', '21.5', { qos: 1 })
    const nc = await natsConnect({ servers: testNatsUrl() })
    const jsm = await jetstreamManager(nc)
    await waitUntil(
      async () => (await jsm.streams.info(stream)).state.messages === 1,
      10_000,
      'message in the stream',
    )
    const stored = await jsm.streams.getMessage(stream, { seq: 1 })
    assert.ok(stored)
    assert.equal(stored.subject, `${prefix}.sensors.a.temp`)
    assert.equal(Buffer.from(stored.data).toString(), '21.5')
    await jsm.streams.delete(stream)
    await nc.close()
    await device.endAsync()
    await daemon.stop()
  })

  it('daemon - with the kafka backend the message lands in the topic, keyed by the device', async () => {
    const topic = uniqueName('e2e')
    const { daemon, url } = await startDaemon({
      core: { backend: 'kafka' },
      kafka: { brokers: testKafkaBrokers(), topic, createTopics: true },
    })
    const device = await connectDevice(url, 'e2e-kafka')
    await device.publishAsync('sensors/a/temp', '21.5', { qos: 1 })
    await waitUntil(() => daemon.spool.stats().depthRecords === 0, 30_000, 'kafka confirmed the record')
    const consumer = await consumeTopic(testKafkaBrokers(), topic)
    await waitUntil(() => consumer.received.length === 1, 30_000, 'message in Kafka')
    assert.equal(consumer.received[0]!.key, 'e2e-kafka')
    assert.equal(consumer.received[0]!.value.toString(), '21.5')
    assert.equal(consumer.received[0]!.headers['mqtt.topic'], 'sensors/a/temp')
    await consumer.close()
    await device.endAsync()
    await daemon.stop()
  })

  /** Publishes a payload the core cannot take; asserts the device is disconnected, never acknowledged. */
  async function expectRefusedBeforePuback(daemon: Daemon, url: string, bytes: number): Promise<void> {
    const device = await connectDevice(url, 'e2e-too-big')
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()))
    let acknowledged = false
    device.publish('big/one', Buffer.alloc(bytes, 7), { qos: 1 }, (err) => {
      if (!err) acknowledged = true
    })
    await settlesWithin(closed, 10_000, 'the device being disconnected')
    assert.equal(acknowledged, false, 'a message the core can never take was acknowledged')
    assert.equal(daemon.spool.stats().appendedTotal, 0)
    device.end(true)
  }

  it('daemon - a payload larger than NATS max_payload is refused before any PUBACK, and nothing is spooled', async () => {
    const { daemon, url } = await startDaemon({
      core: { backend: 'nats' },
      nats: { servers: [testNatsUrl()] },
      mqtt: { maxPacketBytes: 4 * 1024 * 1024 },
    })
    await waitUntil(() => daemon.backend.isConnected(), 10_000, 'nats connected')
    await expectRefusedBeforePuback(daemon, url, 2 * 1024 * 1024)
    await daemon.stop()
  })

  it('daemon - a payload larger than kafka.maxMessageBytes is refused before any PUBACK, and nothing is spooled', async () => {
    const { daemon, url } = await startDaemon({
      core: { backend: 'kafka' },
      kafka: {
        brokers: testKafkaBrokers(),
        topic: uniqueName('e2e-big'),
        createTopics: true,
        maxMessageBytes: 64 * 1024,
      },
    })
    await expectRefusedBeforePuback(daemon, url, 100 * 1024)
    await daemon.stop()
  })
})
