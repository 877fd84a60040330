/**
 * The downlink through the whole daemon with Kafka: a record in a source topic reaches the device on
 * its `mqtt.topic` header (or <topic>/<key>), the consumer group commits it once delivered, and nothing
 * goes back up to the core.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Kafka, logLevel, type Producer } from 'kafkajs'
import type { MqttClient } from 'mqtt'
import { Daemon } from '../../src/daemon.js'
import { silentLogger } from '../../src/observability/logger.js'
import { consumeTopic, createTopic } from '../kafka/consume.js'
import { testConfig } from '../support/config.js'
import { testKafkaBrokers, uniqueName } from '../support/env.js'
import { connectDevice } from '../support/ingress.js'
import { ensureKafka, type KafkaHandle } from '../support/kafka-server.js'
import { waitUntil } from '../support/wait-until.js'

interface Received {
  topic: string
  payload: string
}

let kafka: KafkaHandle | undefined
let brokers: string[] = []
const cleanups: Array<() => Promise<unknown>> = []

before(async () => {
  // Run alone, the file starts its own broker; under `npm test` the one it was given answers.
  kafka = await ensureKafka()
  brokers = kafka.brokers.length > 0 ? kafka.brokers : testKafkaBrokers()
})
after(async () => {
  for (const c of cleanups.reverse()) await c()
  await kafka?.stop()
})

async function device(url: string, filters: string[]): Promise<{ client: MqttClient; received: Received[] }> {
  const client = await connectDevice(url, uniqueName('dev'))
  cleanups.push(() => client.endAsync())
  const received: Received[] = []
  client.on('message', (topic, payload) => received.push({ topic, payload: payload.toString() }))
  await client.subscribeAsync(filters, { qos: 1 })
  return { client, received }
}

async function producer(): Promise<Producer> {
  const p = new Kafka({ brokers, clientId: 'edgebridge-test-core', logLevel: logLevel.NOTHING }).producer()
  await p.connect()
  cleanups.push(() => p.disconnect())
  return p
}

describe('downlink - kafka', () => {
  it('downlink - a record reaches the device on its mqtt.topic header or <topic>/<key>, is committed, and is not forwarded back', async () => {
    const commands = uniqueName('dl-cmd')
    const uplink = uniqueName('dl-up')
    const groupId = uniqueName('dl-group')
    await createTopic(brokers, commands)
    await createTopic(brokers, uplink)
    const daemon = await Daemon.start(
      testConfig({
        gatewayId: uniqueName('gw'),
        core: { backend: 'kafka', groupId },
        kafka: { brokers, topic: uplink },
        downlink: { enabled: true, rules: [{ source: commands }] },
      }),
      silentLogger(),
    )
    cleanups.push(() => daemon.stop())
    const dev = await device(`mqtt://127.0.0.1:${daemon.ingress.ports()[0]}`, [
      'commands/#',
      'probe/#',
      `${commands}/#`,
    ])
    const core = await producer()

    // A new group starts at the topic's end once it has joined: probe until one gets through.
    let probes = 0
    await waitUntil(
      async () => {
        if (dev.received.some((r) => r.topic === 'probe/x')) return true
        probes++
        await core.send({
          topic: commands,
          messages: [{ value: 'probe', headers: { 'mqtt.topic': 'probe/x' } }],
        })
        await new Promise((resolve) => setTimeout(resolve, 500))
        return false
      },
      60_000,
      'the downlink consuming',
    )
    const seenBefore = dev.received.length

    await core.send({
      topic: commands,
      messages: [
        { value: 'now', headers: { 'mqtt.topic': 'commands/device1/reboot' } },
        { key: 'device2', value: 'stop' },
      ],
    })
    await waitUntil(() => dev.received.length === seenBefore + 2, 30_000, 'both commands at the device')
    assert.deepEqual(dev.received.slice(seenBefore), [
      { topic: 'commands/device1/reboot', payload: 'now' },
      { topic: `${commands}/device2`, payload: 'stop' },
    ])

    // The group commits what was delivered (kafkajs commits resolved offsets only).
    const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    cleanups.push(() => admin.disconnect())
    await waitUntil(
      async () => {
        const [t] = await admin.fetchOffsets({ groupId, topics: [commands] })
        return t?.partitions[0]?.offset === String(probes + 2)
      },
      30_000,
      'the offsets committed',
    )

    // A marker through the uplink: an echo of a command would land in the uplink topic too.
    await dev.client.publishAsync('sensors/d1/marker', 'm', { qos: 1 })
    const up = await consumeTopic(brokers, uplink)
    cleanups.push(() => up.close())
    await waitUntil(() => up.received.length >= 1, 30_000, 'the marker in Kafka')
    assert.deepEqual(
      up.received.map((r) => [r.headers['mqtt.topic'], r.value.toString()]),
      [['sensors/d1/marker', 'm']],
    )
    assert.equal(daemon.spool.stats().appendedTotal, 1, 'only the marker was spooled')
    assert.equal(daemon.downlink.counters.failed, 0)
  })
})
