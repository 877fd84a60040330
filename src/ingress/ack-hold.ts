/**
 * Holds a connection's acknowledgements, not its stream: the writer between aedes and the socket.
 *
 * aedes reads a socket's next chunk only when every packet of the current chunk is handled
 * (lib/client.js `nextBatch`), and a QoS 1 PUBACK is written before the `published` hook runs
 * (lib/handlers/publish.js). Holding the `authorizePublish` callback until the append is durable
 * therefore stopped the device's whole stream at every fsync. Instead the publish gate lets aedes go
 * on at once, and this layer, put by the gate on a connection's stream with its first QoS 1/2 PUBLISH
 * (none on a connection that never sends one), keeps each outgoing PUBACK/PUBREC until its append is
 * durable:
 *
 * - `expect(messageId, qos)` is called by the gate in arrival order, before aedes may write the
 *   acknowledgement, and returns the slot the gate settles when the append is durable (`release`) or
 *   has failed (`fail`: the connection is destroyed; MQTT 3.1.1 has no negative PUBACK, so a device
 *   that gets none resends after reconnecting).
 * - Acknowledgements leave in the order their PUBLISH packets arrived [MQTT-4.6.0-2] [MQTT-4.6.0-3]:
 *   one that is ready waits for every earlier one.
 * - Every other packet (CONNACK, SUBACK, PINGRESP, PUBLISH to the device...) passes at once: MQTT
 *   orders acknowledgements among themselves, not against other packets.
 *
 * The outgoing bytes are framed (fixed header, remaining length) so an acknowledgement is recognised
 * however mqtt-packet splits its writes. The layer patches `write` on the stream instance rather than
 * wrapping the stream in another Duplex: a wrapper would cost a second stream state per connection
 * (idle connections are counted in kilobytes) and a second pass over every byte read.
 */
import type { Duplex } from 'node:stream'
import { EdgebridgeError } from '../errors.js'
import { FixedHeaderScanner } from './fixed-header-scanner.js'

const PUBACK = 4 // MQTT control packet types (high nibble of the first byte)
const PUBREC = 5
const MAX_HEADER_BYTES = 5 // 1 type byte + at most 4 remaining-length bytes [MQTT-2.2.3]

/** One acknowledgement owed to the device, in arrival order. */
export interface AckSlot {
  /** The append is durable: the acknowledgement may leave (after every earlier one). */
  release(): void
  /** The append failed: the acknowledgement must never leave; the connection is closed. */
  fail(err: Error): void
}

interface Slot extends AckSlot {
  /** Packet identifier of the PUBLISH [MQTT-2.3.1]. */
  messageId: number
  /** The packet type that acknowledges it: PUBACK for QoS 1, PUBREC for QoS 2. */
  ackType: number
  /** The append is durable. */
  durable: boolean
  /** The acknowledgement's bytes, once aedes wrote them. */
  bytes: Buffer | undefined
}

type Write = (chunk: Buffer) => boolean

const kHold = Symbol('edgebridge.ackHold')
type HeldStream = Duplex & { [kHold]?: AckHold }

export class AckHold {
  /** Slots owed, oldest first; `head` is the first not yet sent. */
  private slots: Slot[] = []
  private head = 0
  /** Bytes of the current packet's fixed header collected so far. */
  private readonly header = Buffer.allocUnsafe(MAX_HEADER_BYTES) // pooled: idle connections are many
  private headerLen = 0
  /** Where packets begin and end; bodies of other packets pass through. */
  private readonly scanner = new FixedHeaderScanner()
  /** The acknowledgement packet being collected, and how much of it is in. */
  private ack: Buffer | undefined
  private ackFilled = 0
  /** A flush is queued for the end of this microtask run (see scheduleFlush). */
  private flushQueued = false

  private constructor(
    private readonly stream: Duplex,
    /** The stream's own write, which sends. */
    private readonly send: Write,
  ) {}

  /** Put the hold on `stream` (before aedes sees it). */
  static attach(stream: Duplex): AckHold {
    const s = stream as HeldStream
    const send: Write = stream.write.bind(stream) as Write
    const hold = new AckHold(stream, send)
    s[kHold] = hold
    stream.write = ((chunk: Buffer | string, a?: unknown, b?: unknown): boolean => {
      hold.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
      const cb = typeof a === 'function' ? a : b
      if (typeof cb === 'function') process.nextTick(cb as () => void)
      return !stream.writableNeedDrain
    }) as Duplex['write']
    return hold
  }

  static of(stream: unknown): AckHold | undefined {
    return (stream as HeldStream | undefined)?.[kHold]
  }

  /** Register the acknowledgement a PUBLISH with QoS 1 or 2 will get; call in arrival order. */
  expect(messageId: number, qos: 1 | 2): AckSlot {
    const slot: Slot = {
      messageId,
      ackType: qos === 1 ? PUBACK : PUBREC,
      durable: false,
      bytes: undefined,
      release: () => {
        slot.durable = true
        this.scheduleFlush()
      },
      fail: (err) => {
        this.stream.destroy(
          new EdgebridgeError('SPOOL_IO', `message not spooled, connection closed: ${err.message}`, {
            cause: err,
          }),
        )
      },
    }
    this.slots.push(slot)
    return slot
  }

  /** Acknowledgements held right now (tests, metrics). */
  get held(): number {
    return this.slots.length - this.head
  }

  /** Frame outgoing bytes: acknowledgements go to their slot, everything else is sent. */
  private feed(chunk: Buffer): void {
    let i = 0
    let passFrom = 0
    while (i < chunk.length) {
      i = this.scanner.skipBody(chunk, i)
      if (i === chunk.length) break
      if (this.ack !== undefined) {
        const n = Math.min(this.ack.length - this.ackFilled, chunk.length - i)
        chunk.copy(this.ack, this.ackFilled, i, i + n)
        this.ackFilled += n
        i += n
        passFrom = i
        if (this.ackFilled === this.ack.length) {
          const ack = this.ack
          this.ack = undefined
          this.onAck(ack)
        }
        continue
      }
      // A packet starts (or its header continues): pass what came before it, then collect the header.
      if (this.headerLen === 0 && i > passFrom) this.send(chunk.subarray(passFrom, i))
      const byte = chunk[i++]!
      this.header[this.headerLen++] = byte
      passFrom = i
      const step = this.scanner.header(byte)
      if (step === 'more') continue
      // aedes writes no malformed length; were it to, the bytes pass on as they are.
      const remaining = step === 'malformed' ? 0 : step.remaining
      const type = this.header[0]! >> 4
      const headerBytes = this.header.subarray(0, this.headerLen)
      this.headerLen = 0
      if ((type === PUBACK || type === PUBREC) && remaining >= 2 && remaining < 256) {
        this.ack = Buffer.allocUnsafe(headerBytes.length + remaining)
        headerBytes.copy(this.ack, 0)
        this.ackFilled = headerBytes.length
      } else {
        this.send(Buffer.from(headerBytes))
        this.scanner.skip(remaining)
      }
    }
    if (i > passFrom && this.headerLen === 0 && this.ack === undefined) this.send(chunk.subarray(passFrom, i))
  }

  private onAck(ack: Buffer): void {
    const type = ack[0]! >> 4
    const headerLen = ack[1]! & 0x80 ? 3 : 2 // remaining length < 256 fits in one or two bytes
    const messageId = ack.readUInt16BE(headerLen)
    for (let k = this.head; k < this.slots.length; k++) {
      const slot = this.slots[k]!
      if (slot.bytes === undefined && slot.messageId === messageId && slot.ackType === type) {
        slot.bytes = ack
        if (k === this.head) this.flush()
        return
      }
    }
    // Not one the gate is holding (a duplicate's second answer after its slot left, say): send.
    this.send(ack)
  }

  /**
   * Flush once the appends settled together have all released: a group commit settles many appends
   * of a connection in one go, and their acknowledgements leave in one socket write, not one each
   * (a write is a system call; one per PUBACK cost a tenth of the gateway's CPU at full load).
   */
  private scheduleFlush(): void {
    if (this.flushQueued) return
    this.flushQueued = true
    queueMicrotask(() => {
      this.flushQueued = false
      this.flush()
    })
  }

  /** Send every acknowledgement at the head that is both durable and written by aedes. */
  private flush(): void {
    let first: Buffer | undefined
    let more: Buffer[] | undefined
    while (this.head < this.slots.length) {
      const slot = this.slots[this.head]!
      if (!slot.durable || slot.bytes === undefined) break
      if (first === undefined) first = slot.bytes
      else (more ??= [first]).push(slot.bytes)
      this.head++
    }
    if (this.head > 64 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head)
      this.head = 0
    }
    if (first === undefined || this.stream.destroyed) return
    this.send(more === undefined ? first : Buffer.concat(more))
  }
}
