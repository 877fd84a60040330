import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FixedHeaderScanner, type HeaderStep } from '../../src/ingress/fixed-header-scanner.js'

/** The headers a byte stream holds, fed in chunks of `size` bytes; bodies are skipped. */
function headers(stream: Buffer, size: number): HeaderStep[] {
  const scanner = new FixedHeaderScanner()
  const out: HeaderStep[] = []
  for (let at = 0; at < stream.length; at += size) {
    const chunk = stream.subarray(at, at + size)
    let pos = scanner.skipBody(chunk, 0)
    while (pos < chunk.length) {
      const step = scanner.header(chunk[pos++]!)
      if (step === 'more') continue
      out.push(step)
      if (step !== 'malformed') scanner.skip(step.remaining)
      pos = scanner.skipBody(chunk, pos)
    }
  }
  return out
}

describe('fixed header scanner', () => {
  it('fixed header scanner - finds each packet however the stream is split [MQTT-2.2.3]', () => {
    const puback = Buffer.from([0x40, 0x02, 0x00, 0x01])
    // PUBLISH with a remaining length of 321 (two length bytes: 0xc1 0x02)
    const publish = Buffer.concat([Buffer.from([0x30, 0xc1, 0x02]), Buffer.alloc(321, 7)])
    const pingresp = Buffer.from([0xd0, 0x00])
    const stream = Buffer.concat([puback, publish, pingresp, puback])
    const expected = [
      { headerBytes: 2, remaining: 2 },
      { headerBytes: 3, remaining: 321 },
      { headerBytes: 2, remaining: 0 },
      { headerBytes: 2, remaining: 2 },
    ]
    for (const size of [1, 2, 3, 7, 64, stream.length])
      assert.deepEqual(headers(stream, size), expected, `${size}`)
  })

  it('fixed header scanner - four length bytes are the most; a fifth is malformed', () => {
    const max = Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]) // 268,435,455: the largest remaining length
    assert.deepEqual(headers(max, 5), [{ headerBytes: 5, remaining: 268_435_455 }])
    assert.deepEqual(headers(Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01]), 6), ['malformed'])
  })
})
