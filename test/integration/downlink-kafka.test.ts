/**
 * The downlink through the whole daemon with Kafka: a record in a source topic reaches the device on
 * its `mqtt.topic` header (or <topic>/<key>), the consumer group commits it once delivered, and nothing
 * goes back up to the core.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Kafka, logLevel, type Producer } from 'kafkajs'
import { consumeTopic, createTopic } from '../kafka/consume.js'
import { uniqueName } from '../support/env.js'
import { closeAtEnd, startTestDaemon, subscribedDevice } from '../support/daemon-under-test.js'
import { kafkaForFile } from '../support/kafka-for-file.js'
import { waitUntil } from '../support/wait-until.js'

const kafkaBrokers = kafkaForFile()

async function producer(): Promise<Producer> {
  const p = new Kafka({
    brokers: kafkaBrokers(),
    clientId: 'edgebridge-test-core',
    logLevel: logLevel.NOTHING,
  }).producer()
  await p.connect()
  closeAtEnd(() => p.disconnect())
  return p
}

describe('downlink - kafka', () => {
  it('downlink - a record reaches the device on its mqtt.topic header or <topic>/<key>, is committed, and is not forwarded back', async () => {
    const commands = uniqueName('dl-cmd')
    const uplink = uniqueName('dl-up')
    const groupId = uniqueName('dl-group')
    await createTopic(kafkaBrokers(), commands)
    await createTopic(kafkaBrokers(), uplink)
    const { daemon, url } = await startTestDaemon({
      gatewayId: uniqueName('gw'),
      core: { backend: 'kafka', groupId },
      kafka: { brokers: kafkaBrokers(), topic: uplink },
      downlink: { enabled: true, rules: [{ source: commands }] },
    })
    const dev = await subscribedDevice(url, ['commands/#', 'probe/#', `${commands}/#`])
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
      { topic: 'commands/device1/reboot', payload: 'now', qos: 1 },
      { topic: `${commands}/device2`, payload: 'stop', qos: 1 },
    ])

    // The group commits what was delivered (kafkajs commits resolved offsets only).
    const admin = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    closeAtEnd(() => admin.disconnect())
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
    const up = await consumeTopic(kafkaBrokers(), uplink)
    closeAtEnd(() => up.close())
    await waitUntil(() => up.received.length >= 1, 30_000, 'the marker in Kafka')
    assert.deepEqual(
      up.received.map((r) => [r.headers['mqtt.topic'], r.value.toString()]),
      [['sensors/d1/marker', 'm']],
    )
    assert.equal(daemon.spool.stats().appendedTotal, 1, 'only the marker was spooled')
    assert.equal(daemon.downlink.counters.failed, 0)
  })
})
