/**
 * A resumed persistent session gets its queued messages before newer ones [MQTT-4.6.0-6], against the
 * embedded broker on the durable store (DESIGN.md invariant 7).
 *
 * The race: aedes restores a clean=false client's subscriptions, sends the CONNACK and only then
 * replays its queue. A message published in between is queued for the client and delivered live at
 * once. The first test makes that interleaving certain: the store's queue stream is held until such a
 * message was queued, the way a slow disk or a busy event loop delays it. Without the hold on live
 * deliveries (src/ingress/resume-order.ts) the device gets c1, c4, c2, c3, c4, or c4 twice.
 */
import { after, before, describe, it, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough, type Readable } from 'node:stream'
import mqtt, { type MqttClient } from 'mqtt'
import { Ingress } from '../../src/ingress/ingress.js'
import { SqliteStore } from '../../src/ingress/store/index.js'
import { silentLogger } from '../../src/observability/logger.js'
import { MemorySpool } from '../../src/spool/memory-spool.js'
import { tempDataDir } from '../crash/scenario.js'
import { testConfig } from '../support/config.js'
import { connectDevice, topicAsTarget } from '../support/ingress.js'
import { waitUntil } from '../support/wait-until.js'

type StoreClient = { id: string }

describe('ingress - resumed session order', () => {
  let ingress: Ingress
  let url: string
  let removeDir: () => Promise<void>
  const spool = new MemorySpool({ logger: silentLogger() })

  before(async () => {
    const data = await tempDataDir()
    removeDir = () => data.remove()
    ingress = new Ingress({
      config: testConfig({ dataDir: data.dir, store: { kind: 'disk' } }),
      spool,
      router: topicAsTarget,
      logger: silentLogger(),
    })
    await ingress.start()
    url = `mqtt://127.0.0.1:${ingress.ports()[0]}`
  })
  after(async () => {
    await ingress.close()
    await spool.close()
    await removeDir()
  })

  /** A sleeping device: subscribed QoS 1 with a persistent session, then gone. */
  async function sleeper(clientId: string, topic: string): Promise<void> {
    const device = await connectDevice(url, clientId, { clean: false, protocolVersion: 4 })
    await device.subscribeAsync(topic, { qos: 1 })
    await device.endAsync()
  }

  async function wake(clientId: string, received: string[]): Promise<MqttClient> {
    // Listening before the CONNACK: the replay follows it at once.
    const device = mqtt.connect(url, { clientId, clean: false, protocolVersion: 4, reconnectPeriod: 0 })
    device.on('message', (_t, payload) => received.push(payload.toString()))
    await new Promise<void>((resolve, reject) => {
      device.once('connect', () => resolve())
      device.once('error', reject)
    })
    return device
  }

  const send = (topic: string, text: string) => ingress.publishToDevices(topic, Buffer.from(text), 1)

  /**
   * c1..c3 wait for the sleeping device; it reconnects; right after its CONNACK, c4 is published and
   * the store's queue stream is held until c4 is queued. `start` says when the replay then begins:
   * - 'same turn': as c4's row is written, before aedes delivers c4 live. Without the hold the live c4
   *   goes out while the replay is at c1: c1, c4, c2, c3, c4.
   * - 'later': once c4's live delivery is under way. Without the hold the device gets c4 twice.
   */
  async function replayRace(
    t: TestContext,
    clientId: string,
    start: 'same turn' | 'later',
  ): Promise<string[]> {
    const topic = `cmd/${clientId}`
    await sleeper(clientId, topic)
    for (const c of ['c1', 'c2', 'c3']) await send(topic, c)

    const proto = SqliteStore.prototype
    const { outgoingStream, outgoingEnqueueCombi } = proto
    t.after(() => {
      proto.outgoingStream = outgoingStream
      proto.outgoingEnqueueCombi = outgoingEnqueueCombi
    })
    let c4: Promise<void> | undefined
    let c4Queued: () => void = () => undefined
    proto.outgoingEnqueueCombi = async function (this: SqliteStore, subs, packet) {
      await outgoingEnqueueCombi.call(this, subs, packet)
      if (String(packet.payload) === 'c4') c4Queued()
    }
    proto.outgoingStream = function (this: SqliteStore, client: StoreClient): Readable {
      if (client.id !== clientId || c4 !== undefined) return outgoingStream.call(this, client)
      const held = new PassThrough({ objectMode: true, highWaterMark: 1 })
      const replay = () => outgoingStream.call(this, client).pipe(held)
      c4Queued = start === 'same turn' ? replay : () => setTimeout(replay, 50)
      c4 = send(topic, 'c4')
      return held
    }

    const received: string[] = []
    const device = await wake(clientId, received)
    t.after(() => device.endAsync(true))
    await waitUntil(() => c4 !== undefined, 10_000, 'the replay to begin')
    await c4
    await send(topic, 'c5')
    await waitUntil(() => received.includes('c5'), 10_000, 'c5 at the device').catch((err: Error) => {
      throw new Error(`${err.message}: got ${received.join(', ')}`)
    })
    // Quiet for a moment: a second copy of a command would come now.
    await new Promise((r) => setTimeout(r, 300))
    return received
  }

  it('ingress - a command queued as the replay begins does not overtake the queue', async (t) => {
    assert.deepEqual(await replayRace(t, 'resume-order-same-turn', 'same turn'), [
      'c1',
      'c2',
      'c3',
      'c4',
      'c5',
    ])
  })

  it('ingress - a command queued before the replay begins is delivered once, by the replay', async (t) => {
    assert.deepEqual(await replayRace(t, 'resume-order-later', 'later'), ['c1', 'c2', 'c3', 'c4', 'c5'])
  })

  it('ingress - commands published all through a reconnect reach the device in order, none lost', async (t) => {
    const clientId = 'resume-order-stream'
    const topic = `cmd/${clientId}`
    await sleeper(clientId, topic)
    const sent: string[] = []
    let n = 0
    const next = () => {
      const c = `m${++n}`
      sent.push(c)
      return send(topic, c)
    }
    for (let i = 0; i < 50; i++) await next()

    // Keep publishing, one every event-loop turn, while the device reconnects and its queue is replayed.
    let publishing = true
    const publisher = (async () => {
      while (publishing) {
        await next()
        await new Promise((r) => setImmediate(r))
      }
    })()
    const received: string[] = []
    const device = await wake(clientId, received)
    t.after(() => device.endAsync(true))
    await waitUntil(() => received.length >= 100, 20_000, '100 commands at the device')
    publishing = false
    await publisher
    await waitUntil(() => received.length >= sent.length, 20_000, 'every command').catch((err: Error) => {
      throw new Error(`${err.message}: sent ${sent.length}, got ${received.length}`)
    })
    const firsts = received.filter((m, i) => received.indexOf(m) === i)
    assert.deepEqual(firsts, sent, 'in the order they were published')
  })
})
