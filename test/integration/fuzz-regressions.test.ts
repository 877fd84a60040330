/**
 * Bugs the ingress fuzzer (fuzz-ingress.test.ts) found, each pinned with the exact bytes that showed it.
 *
 * 1. Ill-formed UTF-8 in a PUBLISH topic or a CONNECT client id was accepted and spooled: mqtt-packet
 *    decodes it lossily (each bad sequence becomes U+FFFD), so `t/\xff\xfe/x` and `t/\xc3\x28/x` both
 *    reached the core as the same `t/\ufffd.../x`, and different devices' ids could collide.
 *    [MQTT-1.5.3-1] says the server must close the connection instead.
 * 2. A will with a wildcard topic (`w/#`) or QoS 3 was spooled when its client vanished: aedes checks
 *    wildcards for PUBLISH packets only, and a will reaches the publish gate without that check.
 *    [MQTT-3.3.2-2] [MQTT-4.7.1-1] [MQTT-3.1.2-14]
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Ingress } from '../../src/ingress/ingress.js'
import { MemorySpool } from '../../src/spool/memory-spool.js'
import { silentLogger } from '../../src/observability/logger.js'
import { connectDevice, startTestIngress } from '../support/ingress.js'
import { waitUntil } from '../support/wait-until.js'
import { connect, publish } from '../support/mqtt-mutator.js'
import { RawMqtt } from '../support/raw-mqtt.js'

describe('ingress - fuzzer regressions', () => {
  let spool: MemorySpool
  let ingress: Ingress
  let port: number
  let url: string

  before(async () => {
    spool = new MemorySpool({ logger: silentLogger() })
    ;({ ingress, port, url } = await startTestIngress({ spool, logger: silentLogger() }))
  })
  after(async () => {
    await ingress.close()
    await spool.close()
  })

  for (const [name, bad] of [
    ['a broken two-byte sequence', [0xc3, 0x28]],
    ['bytes never valid in UTF-8', [0xff, 0xfe]],
    ['an encoded UTF-16 surrogate', [0xed, 0xa0, 0x80]],
    ['an overlong encoding', [0xc1, 0xbf]],
  ] as const) {
    it(`ingress - a PUBLISH topic with ${name} is refused without PUBACK and not spooled [MQTT-1.5.3-1]`, async () => {
      const before = spool.stats().appendedTotal
      const raw = await RawMqtt.connect(port)
      raw.sendBytes(connect({ clientId: `utf8-${bad.join('-')}` }))
      await raw.waitFor((p) => p.cmd === 'connack')
      raw.sendBytes(publish(Buffer.from([0x74, 0x2f, ...bad, 0x2f, 0x78]), Buffer.from('x'), 1, 7))
      await raw.waitClosed()
      assert.equal(raw.packets.filter((p) => p.cmd === 'puback').length, 0)
      assert.equal(spool.stats().appendedTotal, before)
    })
  }

  it('ingress - a CONNECT whose client id is ill-formed UTF-8 gets CONNACK 0x02 and is closed [MQTT-1.5.3-1]', async () => {
    const raw = await RawMqtt.connect(port)
    raw.sendBytes(connect({ clientId: Buffer.from([0x69, 0x64, 0xff, 0xfe]) }))
    const connack = await raw.waitFor((p) => p.cmd === 'connack')
    assert.equal((connack as { returnCode?: number }).returnCode, 2)
    await raw.waitClosed()
  })

  it('ingress - well-formed multi-byte UTF-8 topics and client ids are still accepted', async () => {
    const device = await connectDevice(url, 'gerät-日本')
    await device.publishAsync('sensors/temperatur/ü/日本', 'ok', { qos: 1 })
    await device.endAsync()
  })

  it('ingress - a will with a wildcard topic or QoS 3 is never spooled; a valid will is', async () => {
    const spooledTopics: string[] = []
    const willOf = async (clientId: string, topic: string, qos: number) => {
      const raw = await RawMqtt.connect(port)
      raw.sendBytes(connect({ clientId, will: { topic, payload: Buffer.from('bye'), qos, retain: false } }))
      // mqtt-packet may refuse the CONNECT outright (closed); else the will is armed and we vanish.
      await raw.waitFor((p) => p.cmd === 'connack').catch(() => undefined)
      raw.close()
    }
    await willOf('will-hash', 'w/#', 1)
    await willOf('will-plus', 'w/+/x', 0)
    await willOf('will-qos3', 'w/qos3', 3)
    // A valid will last: once it is spooled, the invalid ones (published before it) would be too.
    await willOf('will-valid', 'w/valid', 1)
    await waitUntil(
      async () => {
        const batch = await spool.read({ maxRecords: 1000, maxBytes: 1024 * 1024 }, AbortSignal.timeout(5000))
        spooledTopics.push(...batch.filter((r) => r.clientId.startsWith('will-')).map((r) => r.topic))
        if (batch.length > 0) await spool.commit(batch[batch.length - 1]!.seq)
        return spooledTopics.includes('w/valid')
      },
      5000,
      'the valid will to be spooled',
    )
    assert.deepEqual(spooledTopics, ['w/valid'])
  })
})
