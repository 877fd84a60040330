import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodedMessageHeaders, messageHeaders } from '../../src/backends/nats/message-headers.js'
import { provenanceHeaders, type SpooledRecord } from '../../src/record.js'

function record(seq: number, extra: Partial<SpooledRecord> = {}): SpooledRecord {
  return {
    seq,
    topic: 'sensors/dev-1/temp',
    payload: Buffer.from('21.5'),
    qos: 1,
    retain: false,
    clientId: 'dev-1',
    gatewayId: 'gw-1',
    receivedAt: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
    target: 'edge.sensors',
    codec: 'raw',
    ...extra,
  }
}

const encode = (h: MsgHdrsLike): string => Buffer.from(h.encode()).toString('utf8')
interface MsgHdrsLike {
  encode(): Uint8Array
}

describe('provenance', () => {
  it('provenance - every field under its fixed name, in a fixed order', () => {
    assert.deepEqual(Object.entries(provenanceHeaders(record(7))), [
      ['mqtt.topic', 'sensors/dev-1/temp'],
      ['mqtt.qos', '1'],
      ['mqtt.retain', 'false'],
      ['client.id', 'dev-1'],
      ['gateway.id', 'gw-1'],
      ['received.at', '2026-01-02T03:04:05.006Z'],
      ['seq', '7'],
    ])
    assert.equal(provenanceHeaders(record(7, { username: 'alice' }))['mqtt.username'], 'alice')
    // Receive times alternate: each record gets its own, not the one converted before it.
    for (const at of [Date.UTC(2026, 0, 2, 3, 4, 5, 7), Date.UTC(2026, 0, 2, 3, 4, 5, 6), 0])
      assert.equal(
        provenanceHeaders(record(7, { receivedAt: at }))['received.at'],
        new Date(at).toISOString(),
      )
  })

  it("provenance - core NATS header bytes are exactly what nats.js' own headers encode to", () => {
    for (const r of [
      record(8),
      record(9, { username: 'alice', retain: true, qos: 2 }),
      record(10, { topic: ' padded/topic ', clientId: 'ünïcödé-device' }),
    ]) {
      const fast = encodedMessageHeaders(r) as unknown as MsgHdrsLike
      const reference = messageHeaders(r) as unknown as MsgHdrsLike
      assert.equal(encode(fast), encode(reference))
      assert.match(encode(fast), /^NATS\/1\.0\r\n/)
    }
  })

  it('provenance - a topic NATS cannot carry in a header fails as nats.js fails it', () => {
    assert.throws(() => encodedMessageHeaders(record(11, { topic: 'a\r\nb' })), /cannot contain/)
  })

  it('provenance - JetStream headers still carry the msgID its publish adds', () => {
    const h = messageHeaders(record(12))
    h.set('Nats-Msg-Id', 'gw-1:12') // what JetStream's publish does with the msgID option
    const bytes = encode(h as unknown as MsgHdrsLike)
    assert.ok(bytes.includes('Nats-Msg-Id: gw-1:12\r\n'))
    assert.ok(bytes.includes('seq: 12\r\n'))
  })
})
