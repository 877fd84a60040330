/**
 * Broker state through `kill -9` (DESIGN.md invariant 7): the daemon is a real child process on a
 * data directory, SIGKILLed between the steps and started again, the way a power cut or the OOM killer
 * would stop it. What the broker acknowledged must be there afterwards: a retained message, a
 * persistent session with its subscription and the command queued for it, the inbound QoS 2 state of
 * an interrupted exchange; and a queue over its limit loses its oldest messages, with a logged reason.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { Packet } from 'mqtt-packet'
import { DaemonProcess } from '../support/daemon-process.js'
import { testRedisUrl, uniqueName } from '../support/env.js'
import { RawMqtt, connectPacket } from '../support/raw-mqtt.js'
import { waitUntil } from '../support/wait-until.js'
import { Cleanup, tempDataDir } from './scenario.js'

interface Device {
  client: MqttClient
  sessionPresent: boolean
  received: { topic: string; payload: string; qos: number }[]
}

/** Connects an MQTT 3.1.1 client and resolves with its CONNACK's session-present flag. */
async function connect(port: number, clientId: string, options: IClientOptions = {}): Promise<Device> {
  const received: Device['received'] = []
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId,
    protocolVersion: 4,
    clean: false,
    reconnectPeriod: 0,
    ...options,
  })
  client.on('message', (topic, payload, packet) =>
    received.push({ topic, payload: payload.toString(), qos: packet.qos }),
  )
  const sessionPresent = await new Promise<boolean>((resolve, reject) => {
    client.once('connect', (connack) => resolve(connack.sessionPresent))
    client.once('error', reject)
  })
  return { client, sessionPresent, received }
}

async function startDaemon(cleanup: Cleanup, env: Record<string, string> = {}): Promise<DaemonProcess> {
  const data = cleanup.add(await tempDataDir(), (d) => d.remove())
  const daemon = await DaemonProcess.start({
    name: 'edgebridge (broker state)',
    env: {
      EDGEBRIDGE_BACKEND: 'redis',
      EDGEBRIDGE_REDIS_URL: testRedisUrl(),
      EDGEBRIDGE_DATA_DIR: data.dir,
      EDGEBRIDGE_GATEWAY_ID: uniqueName('gw'),
      EDGEBRIDGE_LOG_LEVEL: 'info',
      ...env,
    },
  })
  cleanup.add(daemon, (d) => d.close())
  return daemon
}

async function crashAndRestart(daemon: DaemonProcess): Promise<void> {
  await daemon.kill('SIGKILL')
  await daemon.start()
}

test('broker state - a retained message survives kill -9', async (t) => {
  const cleanup = new Cleanup()
  t.after(() => cleanup.run())
  const daemon = await startDaemon(cleanup)
  const topic = `${uniqueName('config')}/interval`

  const device = await connect(daemon.mqttPort, uniqueName('dev'), { clean: true })
  await device.client.publishAsync(topic, '60', { qos: 1, retain: true }) // resolves on PUBACK
  device.client.end(true)
  await crashAndRestart(daemon)

  const reader = cleanup.add(await connect(daemon.mqttPort, uniqueName('reader'), { clean: true }), (d) =>
    d.client.endAsync(true),
  )
  await reader.client.subscribeAsync(topic, { qos: 1 })
  await waitUntil(() => reader.received.length > 0, 10_000, 'the retained message')
  assert.deepEqual(reader.received, [{ topic, payload: '60', qos: 1 }])
})

test('broker state - a sleeping clean=false device gets its session and the command queued while it slept, after kill -9', async (t) => {
  const cleanup = new Cleanup()
  t.after(() => cleanup.run())
  const daemon = await startDaemon(cleanup)
  const id = uniqueName('sensor')
  const topic = `cmd/${id}/reboot`

  const first = await connect(daemon.mqttPort, id)
  await first.client.subscribeAsync(`cmd/${id}/#`, { qos: 1 })
  await first.client.endAsync() // asleep
  const commander = await connect(daemon.mqttPort, uniqueName('cmdr'), { clean: true })
  await commander.client.publishAsync(topic, 'now', { qos: 1 }) // PUBACK: queued for the sleeper
  commander.client.end(true)
  await crashAndRestart(daemon)

  const woken = cleanup.add(await connect(daemon.mqttPort, id), (d) => d.client.endAsync(true))
  assert.equal(woken.sessionPresent, true, 'CONNACK session present [MQTT-3.2.2-2]')
  await waitUntil(() => woken.received.length > 0, 10_000, 'the queued command')
  assert.deepEqual(woken.received, [{ topic, payload: 'now', qos: 1 }])
})

test('broker state - a QoS 2 exchange interrupted by kill -9 after PUBREC completes exactly once', async (t) => {
  const cleanup = new Cleanup()
  t.after(() => cleanup.run())
  const daemon = await startDaemon(cleanup)
  const topic = `${uniqueName('q2')}/reading`
  const publisherId = uniqueName('q2pub')
  const subscriberId = uniqueName('q2sub')

  const subscriber = await connect(daemon.mqttPort, subscriberId)
  await subscriber.client.subscribeAsync(topic, { qos: 2 })
  await subscriber.client.endAsync() // asleep: the message waits in its queue

  const publish: Packet = {
    cmd: 'publish',
    topic,
    payload: Buffer.from('once'),
    qos: 2,
    messageId: 7,
    retain: false,
    dup: false,
  }
  const before = await RawMqtt.connect(daemon.mqttPort)
  before.send(connectPacket(publisherId, false))
  await before.waitFor((p) => p.cmd === 'connack')
  before.send(publish)
  await before.waitFor((p) => p.cmd === 'pubrec' && p.messageId === 7)
  await crashAndRestart(daemon)
  await before.waitClosed()

  // The device lost the PUBREC in flight: it sends the PUBLISH again with DUP, then PUBREL [MQTT-4.3.3].
  const after = await RawMqtt.connect(daemon.mqttPort)
  cleanup.add(after, (c) => c.close())
  after.send(connectPacket(publisherId, false))
  await after.waitFor((p) => p.cmd === 'connack')
  after.send({ ...publish, dup: true })
  await after.waitFor((p) => p.cmd === 'pubrec' && p.messageId === 7)
  after.send({ cmd: 'pubrel', messageId: 7 })
  await after.waitFor((p) => p.cmd === 'pubcomp' && p.messageId === 7)

  const woken = cleanup.add(await connect(daemon.mqttPort, subscriberId), (d) => d.client.endAsync(true))
  await waitUntil(() => woken.received.length > 0, 10_000, 'the QoS 2 message')
  await new Promise((r) => setTimeout(r, 500)) // room for a second copy, which must not come
  assert.deepEqual(woken.received, [{ topic, payload: 'once', qos: 2 }])
})

test('broker state - an offline queue over its limit drops the oldest, with a logged reason, and keeps the rest through kill -9', async (t) => {
  const cleanup = new Cleanup()
  t.after(() => cleanup.run())
  const daemon = await startDaemon(cleanup, { EDGEBRIDGE_STORE_MAX_QUEUED_MESSAGES: '3' })
  const id = uniqueName('sleeper')
  const topic = `cmd/${id}`

  const first = await connect(daemon.mqttPort, id)
  await first.client.subscribeAsync(topic, { qos: 1 })
  await first.client.endAsync()
  const commander = await connect(daemon.mqttPort, uniqueName('cmdr'), { clean: true })
  for (const n of [1, 2, 3, 4]) await commander.client.publishAsync(topic, `m${n}`, { qos: 1 })
  commander.client.end(true)
  const drops = daemon.find('queued message dropped')
  assert.equal(drops.length, 1, daemon.tail(10))
  assert.equal(drops[0]?.clientId, id)
  assert.equal(drops[0]?.dropped, 1)
  assert.match(String(drops[0]?.reason), /store\.maxQueuedMessages: oldest dropped/)
  await crashAndRestart(daemon)

  const woken = cleanup.add(await connect(daemon.mqttPort, id), (d) => d.client.endAsync(true))
  await waitUntil(() => woken.received.length >= 3, 10_000, 'the three newest commands')
  assert.deepEqual(
    woken.received.map((m) => m.payload),
    ['m2', 'm3', 'm4'],
  )
})
