/**
 * Bad input gets a clear answer and nothing else is lost (DESIGN.md invariant 6): a client sending
 * garbage, an oversize packet or a malformed length is closed, the log says why, and another
 * client's messages keep arriving throughout.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { MemorySpool } from '../../src/spool/memory-spool.js'
import { Ingress } from '../../src/ingress/ingress.js'
import { silentLogger } from '../../src/observability/logger.js'
import { captureLog, type CapturedLog } from '../support/log-capture.js'
import { connectDevice, startTestIngress } from '../support/ingress.js'
import { RawMqtt, connectPacket } from '../support/raw-mqtt.js'
import { testConfig } from '../support/config.js'

const MAX_PACKET = 4096

describe('ingress - malformed and oversize packets', () => {
  let spool: MemorySpool
  let ingress: Ingress
  let port: number
  let url: string
  let log: CapturedLog
  let good: MqttClient
  let sent = 0

  before(async () => {
    spool = new MemorySpool({ logger: silentLogger() })
    log = captureLog()
    const config = testConfig({ mqtt: { maxPacketBytes: MAX_PACKET } })
    ;({ ingress, port, url } = await startTestIngress({ spool, logger: log.logger, config }))
    good = await connectDevice(url, 'well-behaved')
  })
  after(async () => {
    await good.endAsync()
    await ingress.close()
  })

  /**
   * The well-behaved device publishes and is acknowledged (so the message is in the spool): proof
   * the broker is unaffected. Each test checks this itself, so any one of them can run alone.
   */
  async function goodDevicePublishes(): Promise<void> {
    const appended = spool.stats().appendedTotal
    await good.publishAsync('good/seq', String(++sent), { qos: 1 })
    assert.equal(spool.stats().appendedTotal, appended + 1, "the good device's message was spooled")
  }

  /** Log lines from this test on (the log is shared by the file's tests). */
  function logFrom(): (text: string) => Array<Record<string, unknown>> {
    const start = log.lines.length
    return (text) => log.lines.slice(start).filter((l) => JSON.stringify(l).includes(text))
  }

  it('ingress - a client sending garbage before CONNECT is closed and logged', async () => {
    const logged = logFrom()
    const raw = await RawMqtt.connect(port)
    raw.sendBytes(Buffer.from('GET / HTTP/1.1\r\nHost: gateway\r\n\r\n'))
    await raw.waitClosed()
    await goodDevicePublishes()
    assert.ok(logged('closed on error').length > 0, 'no log line says why the client was closed')
  })

  it('ingress - a connected client sending a reserved packet type is closed; others are unaffected', async () => {
    const raw = await RawMqtt.connect(port)
    raw.send(connectPacket('garbage-after-connect'))
    await raw.waitFor((p) => p.cmd === 'connack')
    raw.sendBytes(Buffer.from([0xf0, 0x00])) // packet type 15 is reserved in MQTT 3.1.1 [MQTT-2.2.1]
    await raw.waitClosed()
    await goodDevicePublishes()
  })

  it('ingress - an oversize PUBLISH is refused at its header and the reason is logged', async () => {
    const logged = logFrom()
    const raw = await RawMqtt.connect(port)
    raw.send(connectPacket('oversize'))
    await raw.waitFor((p) => p.cmd === 'connack')
    const before = spool.stats().appendedTotal
    raw.send({
      cmd: 'publish',
      topic: 'big/one',
      payload: Buffer.alloc(MAX_PACKET * 4, 1),
      qos: 1,
      messageId: 1,
      retain: false,
      dup: false,
    } as never)
    await raw.waitClosed()
    assert.equal(raw.packets.filter((p) => p.cmd === 'puback').length, 0)
    assert.equal(spool.stats().appendedTotal, before, 'the oversize message was spooled')
    await goodDevicePublishes()
    const lines = logged('exceeds mqtt.maxPacketBytes')
    assert.ok(lines.length > 0, 'no log line names the packet size limit')
    assert.equal(lines[0]!.clientId, 'oversize')
  })

  it('ingress - a remaining length of more than four bytes is malformed and closes the client [MQTT-2.2.3]', async () => {
    const logged = logFrom()
    const raw = await RawMqtt.connect(port)
    raw.send(connectPacket('bad-length'))
    await raw.waitFor((p) => p.cmd === 'connack')
    raw.sendBytes(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]))
    await raw.waitClosed()
    await goodDevicePublishes()
    assert.ok(logged('malformed remaining length').length > 0)
  })

  it('ingress - a second CONNECT closes that client [MQTT-3.1.0-2]', async () => {
    const raw = await RawMqtt.connect(port)
    raw.send(connectPacket('twice'))
    await raw.waitFor((p) => p.cmd === 'connack')
    raw.send(connectPacket('twice'))
    await raw.waitClosed()
    await goodDevicePublishes()
  })

  it('ingress - the well-behaved device keeps its order while others are closed around it', async () => {
    // Read what earlier tests left, so this test sees only its own messages (and can run alone).
    const drain = async (count: number): Promise<string[]> => {
      const seen: string[] = []
      while (seen.length < count) {
        const batch = await spool.read({ maxRecords: 100, maxBytes: 1 << 20 }, AbortSignal.timeout(10_000))
        assert.ok(batch.length > 0, `the spool holds ${count} messages, read ${seen.length}`)
        seen.push(...batch.filter((r) => r.clientId === 'well-behaved').map((r) => r.payload.toString()))
        await spool.commit(batch.at(-1)!.seq)
      }
      return seen
    }
    await drain(sent)
    const first = sent + 1
    for (let i = 0; i < 5; i++) {
      const raw = await RawMqtt.connect(port)
      raw.sendBytes(Buffer.from([0xf0, 0x00]))
      await raw.waitClosed()
      await goodDevicePublishes()
    }
    assert.deepEqual(
      await drain(5),
      Array.from({ length: 5 }, (_, i) => String(first + i)),
    )
  })
})
