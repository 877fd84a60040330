import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodedMessageHeaders, messageHeaders } from '../../src/backends/nats/message-headers.js'
import { provenanceHeaders, type SpooledRecord } from '../../src/record.js'

function record(seq: number): SpooledRecord {
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
  }
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1')

describe('provenance', () => {
  it('provenance - built once per record: a record sent again (a retried batch) reuses it', () => {
    const r = record(7)
    const first = provenanceHeaders(r)
    assert.equal(provenanceHeaders(r), first)
    assert.deepEqual(first, {
      'mqtt.topic': 'sensors/dev-1/temp',
      'mqtt.qos': '1',
      'mqtt.retain': 'false',
      'client.id': 'dev-1',
      'gateway.id': 'gw-1',
      'received.at': '2026-01-02T03:04:05.006Z',
      seq: '7',
    })
    assert.notEqual(provenanceHeaders(record(7)), first, 'another record has its own')
  })

  it('provenance - core NATS headers are encoded once per record, with every provenance field', () => {
    const r = record(8)
    const h = encodedMessageHeaders(r) as unknown as { encode(): Uint8Array }
    assert.equal(encodedMessageHeaders(r), h)
    const bytes = h.encode()
    assert.equal(h.encode(), bytes, 'the same bytes for every send')
    assert.match(text(bytes), /^NATS\/1\.0\r\n/)
    for (const [k, v] of Object.entries(provenanceHeaders(r)))
      assert.ok(text(bytes).includes(`${k}: ${v}\r\n`), k)
  })

  it('provenance - JetStream headers are built once per record and still carry the msgID its publish adds', () => {
    const r = record(9)
    const h = messageHeaders(r)
    assert.equal(messageHeaders(r), h)
    h.set('Nats-Msg-Id', 'gw-1:9') // what JetStream's publish does with the msgID option
    const bytes = text((h as unknown as { encode(): Uint8Array }).encode())
    assert.ok(bytes.includes('Nats-Msg-Id: gw-1:9\r\n'))
    assert.ok(bytes.includes('seq: 9\r\n'))
  })
})
