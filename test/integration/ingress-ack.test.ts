/**
 * The acknowledgement rules of the publish path (DESIGN.md invariant 1) against a live embedded
 * broker and real MQTT clients over TCP.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Packet } from 'mqtt-packet'
import { MemorySpool } from '../../src/spool/memory-spool.js'
import type { AppendOptions, Spool } from '../../src/spool/spool.js'
import type { RecordInput } from '../../src/record.js'
import { Ingress } from '../../src/ingress/ingress.js'
import type { BrokerStore } from '../../src/ingress/store/index.js'
import { AckHold } from '../../src/ingress/ack-hold.js'
import { EdgebridgeError } from '../../src/errors.js'
import { silentLogger } from '../../src/observability/logger.js'
import { connectDevice, startTestIngress, topicAsTarget } from '../support/ingress.js'
import { RawMqtt, connectPacket } from '../support/raw-mqtt.js'
import { testConfig } from '../support/config.js'

/** A spool whose appends wait until the test releases them, in whatever order it chooses. */
class HeldSpool {
  readonly inner = new MemorySpool({ logger: silentLogger() })
  readonly held: Array<{ topic: string; release: () => void; fail: (err: Error) => void }> = []
  private onHeld: (() => void) | undefined

  asSpool(): Spool {
    return new Proxy(this.inner, {
      get: (target, prop, receiver) => {
        if (prop === 'append')
          return (record: RecordInput, options: AppendOptions) => this.append(record, options)
        const value = Reflect.get(target, prop, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    }) as Spool
  }

  async append(record: RecordInput, options: AppendOptions): Promise<number> {
    await new Promise<void>((release, fail) => {
      this.held.push({ topic: record.topic, release, fail })
      this.onHeld?.()
    })
    return this.inner.append(record, options)
  }

  async waitHeld(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.held.length < count) {
      if (Date.now() > deadline)
        throw new Error(`${this.held.length} appends reached the spool, not ${count}`)
      await new Promise<void>((resolve) => {
        this.onHeld = resolve
        setTimeout(resolve, 50)
      })
    }
  }
}

function qos1(messageId: number, topic = `flow/${messageId}`): Packet {
  return {
    cmd: 'publish',
    topic,
    payload: Buffer.from('x'),
    qos: 1,
    messageId,
    retain: false,
    dup: false,
  } as Packet
}

describe('ingress - acknowledgement after durability', () => {
  let held: HeldSpool
  let ingress: Ingress
  let url: string
  let port: number

  before(async () => {
    held = new HeldSpool()
    ;({ ingress, url, port } = await startTestIngress({ spool: held.asSpool(), logger: silentLogger() }))
  })
  after(async () => {
    await ingress.close()
  })

  it('ingress - no PUBACK reaches the device while the spool append is held', async () => {
    const device = await connectDevice(url, 'held-1')
    const pubacks: number[] = []
    device.on('packetreceive', (p) => {
      if (p.cmd === 'puback') pubacks.push(p.messageId as number)
    })
    const published = device.publishAsync('sensors/held/temp', '21.5', { qos: 1 })
    await held.waitHeld(1)
    // Give the broker every chance to (wrongly) acknowledge: a SUBSCRIBE round trip proves the
    // connection is alive and processing packets while the append is held.
    await device.subscribeAsync('held/liveness')
    assert.equal(pubacks.length, 0, 'PUBACK sent before the spool made the message durable')
    assert.equal(held.inner.stats().appendedTotal, 0)
    held.held[0]!.release()
    await published
    assert.equal(pubacks.length, 1)
    assert.equal(held.inner.stats().appendedTotal, 1)
    held.held.length = 0
    await device.endAsync()
  })

  it('ingress - a connection holds no acknowledgement hold until its first QoS 1 PUBLISH', async () => {
    const device = await connectDevice(url, 'lazy-hold-1')
    const conn = () =>
      (ingress as unknown as { broker: { clients: Record<string, { conn: unknown }> } }).broker.clients[
        'lazy-hold-1'
      ]!.conn
    await device.subscribeAsync('lazy/liveness')
    await device.publishAsync('sensors/lazy/temp', '21.5', { qos: 0 })
    await held.waitHeld(1)
    held.held[0]!.release()
    held.held.length = 0
    await device.subscribeAsync('lazy/liveness-2') // the QoS 0 PUBLISH was handled before this
    assert.equal(AckHold.of(conn()), undefined, 'an idle or QoS 0 connection must not pay for a hold')
    const published = device.publishAsync('sensors/lazy/temp', '21.6', { qos: 1 })
    await held.waitHeld(1)
    assert.notEqual(AckHold.of(conn()), undefined)
    held.held[0]!.release()
    await published
    held.held.length = 0
    await device.endAsync()
  })

  it('ingress - acknowledgements leave in arrival order even when appends complete out of order [MQTT-4.6.0-2]', async () => {
    const raw = await RawMqtt.connect(port)
    raw.send(connectPacket('order-1'))
    await raw.waitFor((p) => p.cmd === 'connack')
    // Five QoS 1 publishes in one write: aedes dispatches one socket read concurrently.
    const ids = [11, 12, 13, 14, 15]
    raw.sendBytes(
      Buffer.concat(
        ids.map((messageId) => {
          const p = {
            cmd: 'publish',
            topic: `order/${messageId}`,
            payload: Buffer.from('x'),
            qos: 1,
            messageId,
            retain: false,
            dup: false,
          }
          return generate(p as Packet)
        }),
      ),
    )
    await held.waitHeld(5)
    // Release the appends newest first.
    for (const h of [...held.held].reverse()) h.release()
    await raw.waitFor((p) => p.cmd === 'puback' && (p as { messageId: number }).messageId === 15)
    const order = raw.packets
      .filter((p) => p.cmd === 'puback')
      .map((p) => (p as { messageId: number }).messageId)
    assert.deepEqual(order, ids)
    held.held.length = 0
    raw.close()
  })

  it('ingress - the stream keeps flowing while an append is held: later packets reach the spool', async () => {
    const raw = await RawMqtt.connect(port)
    raw.send(connectPacket('flow-1'))
    await raw.waitFor((p) => p.cmd === 'connack')
    // Two publishes in one socket read, then a third in another: aedes reads a socket's next chunk
    // only when every packet of the current one is handled (lib/client.js nextBatch), so holding
    // aedes until the first two are durable would keep the third from ever reaching the spool.
    raw.sendBytes(Buffer.concat([generate(qos1(21)), generate(qos1(22))]))
    await held.waitHeld(2)
    raw.send(qos1(23))
    await held.waitHeld(3)
    assert.equal(raw.packets.filter((p) => p.cmd === 'puback').length, 0, 'nothing durable yet')
    held.held[1]!.release()
    held.held[2]!.release()
    // Later appends are durable, the first is not: no PUBACK may overtake it [MQTT-4.6.0-2].
    raw.send({ cmd: 'pingreq' } as Packet)
    await raw.waitFor((p) => p.cmd === 'pingresp')
    assert.equal(raw.packets.filter((p) => p.cmd === 'puback').length, 0)
    held.held[0]!.release()
    await raw.waitFor((p) => p.cmd === 'puback' && (p as { messageId: number }).messageId === 23)
    assert.deepEqual(
      raw.packets.filter((p) => p.cmd === 'puback').map((p) => (p as { messageId: number }).messageId),
      [21, 22, 23],
    )
    held.held.length = 0
    raw.close()
  })

  it('ingress - a failed append closes the connection; neither its PUBACK nor a later one leaves', async () => {
    const raw = await RawMqtt.connect(port)
    raw.send(connectPacket('fail-1'))
    await raw.waitFor((p) => p.cmd === 'connack')
    raw.send(qos1(31))
    raw.send(qos1(32))
    await held.waitHeld(2)
    held.held[1]!.release()
    held.held[0]!.fail(new EdgebridgeError('SPOOL_IO', 'spool write failed: EIO'))
    await raw.waitClosed()
    assert.equal(raw.packets.filter((p) => p.cmd === 'puback').length, 0)
    held.held.length = 0
  })
})

describe('ingress - acknowledgement after the broker store', () => {
  it('ingress - a retained QoS 1 publish the broker store cannot keep is never acknowledged; the connection closes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'edgebridge-ack-store-'))
    const spool = new MemorySpool({ logger: silentLogger() })
    const { ingress, port } = await startTestIngress({
      spool,
      logger: silentLogger(),
      config: { ...testConfig(), dataDir, store: { ...testConfig().store, kind: 'disk' } },
    })
    try {
      const raw = await RawMqtt.connect(port)
      raw.send(connectPacket('store-fails'))
      await raw.waitFor((p) => p.cmd === 'connack')
      raw.send({ ...qos1(41, 'kept/41'), retain: true } as Packet)
      await raw.waitFor((p) => p.cmd === 'puback')
      // The store fails from now on (its database closed under it): the retained copy of the next
      // message cannot be made durable, so its PUBACK must not leave (MQTT 3.1.1 has no negative one).
      const store = (ingress as unknown as { store: BrokerStore }).store
      await store.persistence?.destroy()
      raw.send({ ...qos1(42, 'kept/42'), retain: true } as Packet)
      await raw.waitClosed()
      assert.deepEqual(
        raw.packets.filter((p) => p.cmd === 'puback').map((p) => (p as { messageId: number }).messageId),
        [41],
      )
    } finally {
      await ingress.close().catch(() => undefined)
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

describe('ingress - back-pressure', () => {
  it('ingress - beyond maxInflightPerClient unsettled appends the device is no longer read from', async () => {
    const held = new HeldSpool()
    const { ingress, port } = await startTestIngress({
      spool: held.asSpool(),
      logger: silentLogger(),
      config: testConfig({ security: { maxInflightPerClient: 3 } }),
    })
    try {
      const raw = await RawMqtt.connect(port)
      raw.send(connectPacket('bp-1'))
      await raw.waitFor((p) => p.cmd === 'connack')
      for (const id of [41, 42, 43, 44, 45]) raw.send(qos1(id))
      await held.waitHeld(3)
      await new Promise((r) => setTimeout(r, 300))
      assert.equal(held.held.length, 3, 'no fourth append while three are unsettled')
      held.held[0]!.release()
      await held.waitHeld(4)
      for (let i = 1; i < 4; i++) held.held[i]!.release()
      await held.waitHeld(5)
      held.held[4]!.release()
      await raw.waitFor((p) => p.cmd === 'puback' && (p as { messageId: number }).messageId === 45)
      assert.deepEqual(
        raw.packets.filter((p) => p.cmd === 'puback').map((p) => (p as { messageId: number }).messageId),
        [41, 42, 43, 44, 45],
      )
      raw.close()
    } finally {
      await ingress.close()
    }
  })
})

function generate(packet: Packet): Buffer {
  // local import keeps the raw helper's API small
  return mqttPacketGenerate(packet)
}
import mqttPacket from 'mqtt-packet'
const mqttPacketGenerate = (p: Packet): Buffer => mqttPacket.generate(p)

describe('ingress - protocol rules the gateway enforces', () => {
  let spool: MemorySpool
  let ingress: Ingress
  let port: number
  let url: string

  before(async () => {
    spool = new MemorySpool({ logger: silentLogger() })
    ;({ ingress, url, port } = await startTestIngress({ spool, logger: silentLogger() }))
  })
  after(async () => {
    await ingress.close()
  })

  it('ingress - a zero-byte client id with CleanSession=0 gets CONNACK 0x02 [MQTT-3.1.3-8]', async () => {
    const raw = await RawMqtt.connect(port)
    // mqtt-packet refuses to generate this CONNECT, so write it by hand: protocol MQTT level 4,
    // flags 0x00 (CleanSession 0), keep-alive 60, client id of zero bytes.
    raw.sendBytes(Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x00, 0, 60, 0, 0]))
    const connack = (await raw.waitFor((p) => p.cmd === 'connack')) as { returnCode: number }
    assert.equal(connack.returnCode, 2)
    await raw.waitClosed()
  })

  it('ingress - a password without a user name closes the connection without CONNACK [MQTT-3.1.2-22]', async () => {
    const raw = await RawMqtt.connect(port)
    // By hand (mqtt-packet will not generate it): flags 0x42 = Password + CleanSession, no User Name;
    // payload: client id "p", password "pw".
    raw.sendBytes(
      Buffer.from([0x10, 17, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x42, 0, 60, 0, 1, 0x70, 0, 2, 0x70, 0x77]),
    )
    await raw.waitClosed()
    assert.equal(raw.packets.filter((p) => p.cmd === 'connack').length, 0)
  })

  it('ingress - a zero-byte client id with CleanSession=1 is accepted', async () => {
    const raw = await RawMqtt.connect(port)
    raw.send(connectPacket('', true))
    const connack = (await raw.waitFor((p) => p.cmd === 'connack')) as { returnCode: number }
    assert.equal(connack.returnCode, 0)
    raw.close()
  })

  it('ingress - a device publishing to $SYS/ is disconnected and nothing is spooled', async () => {
    const before = spool.stats().appendedTotal
    const raw = await RawMqtt.connect(port)
    raw.send(connectPacket('sys-writer'))
    await raw.waitFor((p) => p.cmd === 'connack')
    raw.send({
      cmd: 'publish',
      topic: '$SYS/broker/uptime',
      payload: Buffer.from('0'),
      qos: 1,
      messageId: 1,
      retain: false,
      dup: false,
    } as Packet)
    await raw.waitClosed()
    assert.equal(raw.packets.filter((p) => p.cmd === 'puback').length, 0)
    assert.equal(spool.stats().appendedTotal, before)
  })

  it('ingress - QoS 0, 1 and 2 messages are spooled once each with their provenance', async () => {
    const device = await connectDevice(url, 'prov-1', { username: 'alice' })
    await device.publishAsync('plant/1/temp', Buffer.from('a'), { qos: 0 })
    await device.publishAsync('plant/1/temp', Buffer.from('b'), { qos: 1, retain: true })
    await device.publishAsync('plant/1/temp', Buffer.from('c'), { qos: 2 })
    await device.endAsync()
    const records = []
    while (records.length < 3) records.push(...(await spool.read({ maxRecords: 10, maxBytes: 1 << 20 })))
    const mine = records.filter((r) => r.clientId === 'prov-1')
    assert.deepEqual(
      mine.map((r) => r.payload.toString()),
      ['a', 'b', 'c'],
    )
    assert.deepEqual(
      mine.map((r) => r.qos),
      [0, 1, 2],
    )
    assert.equal(mine[1]!.retain, true)
    assert.equal(mine[0]!.gatewayId, 'test-gw')
    assert.equal(mine[0]!.target, 'plant/1/temp')
    assert.ok(mine[0]!.seq < mine[1]!.seq && mine[1]!.seq < mine[2]!.seq)
    await spool.commit(records[records.length - 1]!.seq)
  })

  it('ingress - a QoS 2 retransmission with DUP set is not spooled twice [MQTT-4.3.3-2]', async () => {
    const before = spool.stats().appendedTotal
    const raw = await RawMqtt.connect(port)
    raw.send(connectPacket('qos2-dup', false))
    await raw.waitFor((p) => p.cmd === 'connack')
    const publish = {
      cmd: 'publish',
      topic: 'q2/dup',
      payload: Buffer.from('once'),
      qos: 2,
      messageId: 7,
      retain: false,
      dup: false,
    }
    raw.send(publish as Packet)
    await raw.waitFor((p) => p.cmd === 'pubrec')
    raw.send({ ...publish, dup: true } as Packet)
    await raw.waitFor((p) => p.cmd === 'pubrec' && raw.packets.filter((q) => q.cmd === 'pubrec').length === 2)
    raw.send({ cmd: 'pubrel', messageId: 7 } as Packet)
    await raw.waitFor((p) => p.cmd === 'pubcomp')
    raw.close()
    assert.equal(spool.stats().appendedTotal - before, 1)
  })
})

describe('ingress - listening', () => {
  it('ingress - a taken port fails start with LISTEN_ADDRESS_IN_USE naming the address', async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as net.AddressInfo).port
    const config = testConfig({ mqtt: { port } })
    const ingress = new Ingress({
      config,
      spool: new MemorySpool({ logger: silentLogger() }),
      router: topicAsTarget,
      logger: silentLogger(),
    })
    await assert.rejects(ingress.start(), (err: unknown) => {
      assert.ok(err instanceof EdgebridgeError)
      assert.equal(err.code, 'LISTEN_ADDRESS_IN_USE')
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`))
      return true
    })
    await ingress.close()
    await new Promise<void>((resolve) => blocker.close(() => resolve()))
  })
})
