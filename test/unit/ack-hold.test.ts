import assert from 'node:assert/strict'
import { Duplex } from 'node:stream'
import { describe, it } from 'node:test'
import { AckHold } from '../../src/ingress/ack-hold.js'

/** A connection whose socket writes are recorded, one entry per write call. */
function connection(): { stream: Duplex; writes: Buffer[] } {
  const writes: Buffer[] = []
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk)
      cb()
    },
  })
  return { stream, writes }
}

/** PUBACK for `messageId` as aedes (mqtt-packet) writes it [MQTT-3.4]. */
const puback = (messageId: number): Buffer => Buffer.from([0x40, 0x02, messageId >> 8, messageId & 0xff])

const settle = (): Promise<void> => new Promise((res) => setImmediate(res))

describe('ack hold', () => {
  it('ack hold - a PUBACK leaves only once its append is durable, in arrival order', async () => {
    const { stream, writes } = connection()
    const hold = AckHold.attach(stream)
    const first = hold.expect(1, 1)
    const second = hold.expect(2, 1)
    stream.write(puback(1))
    stream.write(puback(2))
    second.release()
    await settle()
    assert.equal(writes.length, 0, 'the second is durable, but the first is not yet acknowledged')
    first.release()
    await settle()
    assert.deepEqual(Buffer.concat(writes), Buffer.concat([puback(1), puback(2)]))
  })

  it('ack hold - acknowledgements released together leave in one socket write', async () => {
    const { stream, writes } = connection()
    const hold = AckHold.attach(stream)
    const slots = [1, 2, 3, 4].map((id) => hold.expect(id, 1))
    for (const id of [1, 2, 3, 4]) stream.write(puback(id))
    for (const slot of slots) slot.release() // as a group commit settles them: in one go
    await settle()
    assert.equal(writes.length, 1, 'one write for the four')
    assert.deepEqual(writes[0], Buffer.concat([1, 2, 3, 4].map(puback)))
  })
})
