/**
 * The downlink through `kill -9`, from each core that acknowledges (Kafka, Redis Streams, JetStream):
 * commands for a device that sleeps with a persistent session are acknowledged to the core only once
 * the gateway queued them durably, so neither the commands queued before the kill nor those the core
 * sent while the gateway was down are lost; and the device gets them in the order the core sent
 * them, also those the core sends while the device reconnects and its queue is replayed
 * [MQTT-4.6.0-6]. The daemon is a real child process on a data directory.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Kafka, logLevel } from 'kafkajs'
import { Redis } from 'ioredis'
import { connect as natsConnect } from '@nats-io/transport-node'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import mqtt, { type MqttClient } from 'mqtt'
import { STORE_FILE } from '../../src/ingress/store/index.js'
import { DaemonProcess } from '../support/daemon-process.js'
import { testKafkaBrokers, testNatsUrl, testRedisUrl, uniqueName } from '../support/env.js'
import { createTopic } from '../kafka/consume.js'
import { ensureKafka, type KafkaHandle } from '../support/kafka-server.js'
import { waitUntil } from '../support/wait-until.js'
import { Cleanup, tempDataDir } from './scenario.js'

/** How a core is reached: the daemon's environment, and how the test sends it one command. */
interface Core {
  env: Record<string, string>
  /** The rule's source: a Kafka topic, a Redis stream key, a NATS subject. */
  source: string
  send(text: string): Promise<void>
}

interface Sleeper {
  client: MqttClient
  sessionPresent: boolean
  received: string[]
}

async function connectDevice(port: number, clientId: string): Promise<Sleeper> {
  const received: string[] = []
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
  })
  client.on('message', (_topic, payload) => received.push(payload.toString()))
  client.on('close', () => received.push('(connection closed)'))
  const sessionPresent = await new Promise<boolean>((resolve, reject) => {
    client.once('connect', (connack) => resolve(connack.sessionPresent))
    client.once('error', reject)
  })
  return { client, sessionPresent, received }
}

/** Messages queued in the broker store for `clientId`, read from the file the daemon writes. */
function queuedInStore(dataDir: string, clientId: string): number {
  const db = new Database(join(dataDir, STORE_FILE), { fileMustExist: true })
  try {
    return db
      .prepare("SELECT COUNT(*) FROM outgoing WHERE client_id = ? AND cmd = 'publish'")
      .pluck()
      .get(clientId) as number
  } finally {
    db.close()
  }
}

async function nothingLostNorReordered(core: Core, cleanup: Cleanup): Promise<void> {
  const data = cleanup.add(await tempDataDir(), (d) => d.remove())
  const deviceId = uniqueName('sleeper')
  const topic = `cmd/${deviceId}`
  const daemon = cleanup.add(
    await DaemonProcess.start({
      name: 'edgebridge (downlink restart)',
      env: {
        EDGEBRIDGE_DATA_DIR: data.dir,
        EDGEBRIDGE_GATEWAY_ID: uniqueName('gw'),
        EDGEBRIDGE_GROUP_ID: uniqueName('group'),
        EDGEBRIDGE_LOG_LEVEL: 'info',
        EDGEBRIDGE_DOWNLINK_ENABLED: 'true',
        EDGEBRIDGE_DOWNLINK_RULES: JSON.stringify([{ source: core.source, topic, qos: 1 }]),
        ...core.env,
      },
    }),
    (d) => d.close(),
  )

  // Awake first: probe until a command gets through, so the core's group or consumer is in place.
  const awake = await connectDevice(daemon.mqttPort, deviceId)
  await awake.client.subscribeAsync(topic, { qos: 1 })
  let probes = 0
  await waitUntil(
    async () => {
      if (awake.received.length > 0) return true
      await core.send(`probe-${probes++}`)
      await new Promise((r) => setTimeout(r, 500))
      return false
    },
    90_000,
    'a probe command at the device',
  )
  await awake.client.endAsync() // asleep

  const beforeKill = ['c1', 'c2', 'c3']
  for (const c of beforeKill) await core.send(c)
  await waitUntil(
    () => queuedInStore(data.dir, deviceId) >= beforeKill.length,
    30_000,
    'the commands queued for the sleeping device',
  )
  await daemon.kill('SIGKILL')
  const whileDown = ['c4', 'c5', 'c6']
  for (const c of whileDown) await core.send(c)
  await daemon.start()

  // The core keeps sending while the device wakes up, so commands arrive live while the session's
  // queue is being replayed: they must come after the queued ones [MQTT-4.6.0-6].
  const duringWake: string[] = []
  let waking = true
  const sender = (async () => {
    while (waking && duringWake.length < 20) {
      const c = `c${7 + duringWake.length}`
      duringWake.push(c)
      await core.send(c)
      await new Promise((r) => setTimeout(r, 10))
    }
  })()
  const woken = await connectDevice(daemon.mqttPort, deviceId).finally(() => {
    waking = false
  })
  cleanup.add(woken, (d) => d.client.endAsync(true))
  await sender
  assert.equal(woken.sessionPresent, true)
  const commands = [...beforeKill, ...whileDown, ...duringWake]
  await waitUntil(() => commands.every((c) => woken.received.includes(c)), 120_000, 'every command').catch(
    (err: Error) => {
      throw new Error(`${err.message}: got ${JSON.stringify(woken.received)}\n${daemon.tail(15)}`)
    },
  )
  const firsts = woken.received.filter((m, i, all) => /^c\d+$/.test(m) && all.indexOf(m) === i)
  assert.deepEqual(firsts, commands, `in the order the core sent them (got ${woken.received.join(', ')})`)
}

describe('downlink restart', () => {
  let kafka: KafkaHandle | undefined
  before(async () => {
    kafka = await ensureKafka()
  })
  after(async () => kafka?.stop())

  it('downlink restart - kafka: commands waiting for a sleeping device survive kill -9, and every command arrives in the order sent', async (t) => {
    const cleanup = new Cleanup()
    t.after(() => cleanup.run())
    const brokers = kafka !== undefined && kafka.brokers.length > 0 ? kafka.brokers : testKafkaBrokers()
    const source = uniqueName('dl-restart')
    await createTopic(brokers, source)
    const producer = new Kafka({
      brokers,
      clientId: 'edgebridge-test-core',
      logLevel: logLevel.NOTHING,
    }).producer()
    await producer.connect()
    cleanup.add(producer, (p) => p.disconnect())
    await nothingLostNorReordered(
      {
        env: { EDGEBRIDGE_BACKEND: 'kafka', EDGEBRIDGE_KAFKA_BROKERS: brokers.join(',') },
        source,
        send: async (text) => void (await producer.send({ topic: source, messages: [{ value: text }] })),
      },
      cleanup,
    )
  })

  it('downlink restart - redis streams: commands waiting for a sleeping device survive kill -9, and every command arrives in the order sent', async (t) => {
    const cleanup = new Cleanup()
    t.after(() => cleanup.run())
    const redis = cleanup.add(new Redis(testRedisUrl()), (r) => r.quit())
    const source = uniqueName('dl-restart')
    await nothingLostNorReordered(
      {
        env: { EDGEBRIDGE_BACKEND: 'redis-streams', EDGEBRIDGE_REDIS_URL: testRedisUrl() },
        source,
        send: async (text) => void (await redis.xadd(source, '*', 'payload', text)),
      },
      cleanup,
    )
  })

  it('downlink restart - jetstream: commands waiting for a sleeping device survive kill -9, and every command arrives in the order sent', async (t) => {
    const cleanup = new Cleanup()
    t.after(() => cleanup.run())
    const nc = cleanup.add(await natsConnect({ servers: testNatsUrl() }), (c) => c.close())
    const prefix = uniqueName('dl').replace(/-/g, '_')
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: prefix, subjects: [`${prefix}.>`] })
    cleanup.add(jsm, (m) => m.streams.delete(prefix))
    const js = jetstream(nc)
    const source = `${prefix}.commands`
    await nothingLostNorReordered(
      {
        env: {
          EDGEBRIDGE_BACKEND: 'jetstream',
          EDGEBRIDGE_NATS_SERVERS: testNatsUrl(),
          EDGEBRIDGE_NATS_STREAM_NAME: prefix,
        },
        source,
        send: async (text) => void (await js.publish(source, text)),
      },
      cleanup,
    )
  })
})
