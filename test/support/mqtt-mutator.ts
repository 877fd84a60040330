/**
 * Hostile MQTT 3.1.1 input for fuzzing the ingress: valid packets built by hand (so nothing in a client
 * library refuses to encode what we want to send), and mutations of them that a broken or malicious
 * device could send: bad remaining lengths, invalid UTF-8, reserved bits, wildcards in PUBLISH topics,
 * thousands of topic levels, a second CONNECT, packets over the size limit, byte flips, truncation and
 * plain garbage.
 *
 * Everything comes from one seeded PRNG, so a failing run is replayed exactly from its seed.
 */

/** mulberry32: small, fast, good enough to drive a fuzzer; the same seed gives the same stream. */
export class Prng {
  private state: number

  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1)
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }
}

// Packet types [MQTT-2.2.1]
const CONNECT = 1
const PUBLISH = 3
const PUBACK = 4
const PUBREC = 5
const PUBREL = 6
const PUBCOMP = 7
const SUBSCRIBE = 8
const UNSUBSCRIBE = 10
const PINGREQ = 12
const DISCONNECT = 14

/** The variable-length Remaining Length encoding [MQTT-2.2.3]. */
export function encodeLength(n: number): Buffer {
  const out: number[] = []
  do {
    let byte = n % 128
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    out.push(byte)
  } while (n > 0)
  return Buffer.from(out)
}

/** A UTF-8 string field: two length bytes, then the bytes as given (valid UTF-8 or not). */
function field(bytes: Buffer | string): Buffer {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes
  const len = Buffer.alloc(2)
  len.writeUInt16BE(b.length & 0xffff)
  return Buffer.concat([len, b])
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n & 0xffff)
  return b
}

export function frame(type: number, flags: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(type << 4) | (flags & 0x0f)]), encodeLength(body.length), body])
}

export interface ConnectFields {
  clientId: Buffer | string
  clean?: boolean
  keepalive?: number
  protocolName?: string
  protocolLevel?: number
  /** Extra bits ORed into the connect flags (bit 0 is reserved [MQTT-3.1.2-3]). */
  extraFlags?: number
  username?: Buffer | string
  password?: Buffer
  will?: { topic: Buffer | string; payload: Buffer; qos: number; retain: boolean }
}

export function connect(f: ConnectFields): Buffer {
  let flags = f.clean === false ? 0 : 0x02
  if (f.will) flags |= 0x04 | ((f.will.qos & 3) << 3) | (f.will.retain ? 0x20 : 0)
  if (f.password !== undefined) flags |= 0x40
  if (f.username !== undefined) flags |= 0x80
  flags |= f.extraFlags ?? 0
  const parts = [
    field(f.protocolName ?? 'MQTT'),
    Buffer.from([f.protocolLevel ?? 4, flags & 0xff]),
    u16(f.keepalive ?? 60),
    field(f.clientId),
  ]
  if (f.will) parts.push(field(f.will.topic), field(f.will.payload))
  if (f.username !== undefined) parts.push(field(f.username))
  if (f.password !== undefined) parts.push(field(f.password))
  return frame(CONNECT, 0, Buffer.concat(parts))
}

export function publish(
  topic: Buffer | string,
  payload: Buffer,
  qos: number,
  messageId: number,
  opts: { retain?: boolean; dup?: boolean } = {},
): Buffer {
  const flags = ((opts.dup ? 1 : 0) << 3) | ((qos & 3) << 1) | (opts.retain ? 1 : 0)
  const parts = [field(topic)]
  if (qos > 0) parts.push(u16(messageId))
  parts.push(payload)
  return frame(PUBLISH, flags, Buffer.concat(parts))
}

export function subscribe(
  messageId: number,
  filters: Array<[Buffer | string, number]>,
  flags = 0x02,
): Buffer {
  // [MQTT-3.8.1-1] SUBSCRIBE's fixed header flags must be 0010
  const parts = [u16(messageId)]
  for (const [filter, qos] of filters) parts.push(field(filter), Buffer.from([qos]))
  return frame(SUBSCRIBE, flags, Buffer.concat(parts))
}

export function unsubscribe(messageId: number, filters: Array<Buffer | string>): Buffer {
  return frame(UNSUBSCRIBE, 0x02, Buffer.concat([u16(messageId), ...filters.map((t) => field(t))]))
}

const ack = (type: number, flags: number, id: number): Buffer => frame(type, flags, u16(id))

/** Byte sequences that are not UTF-8, or that MQTT forbids in strings [MQTT-1.5.3-1] [MQTT-1.5.3-2]. */
const BAD_UTF8: readonly Buffer[] = [
  Buffer.from([0xc3, 0x28]), // broken two-byte sequence
  Buffer.from([0xed, 0xa0, 0x80]), // UTF-16 surrogate encoded as UTF-8
  Buffer.from([0xc0, 0x80]), // overlong NUL
  Buffer.from([0xff, 0xfe]), // never valid
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), // five-byte form
  Buffer.from([0x00]), // the null character
  Buffer.from([0xe2, 0x82]), // truncated three-byte sequence
]

export type MutationKind =
  | 'valid'
  | 'bad-remaining-length'
  | 'invalid-utf8-topic'
  | 'invalid-utf8-client-id'
  | 'reserved-bits'
  | 'wildcard-publish'
  | 'many-topic-levels'
  | 'duplicate-connect'
  | 'oversize'
  | 'byte-flip'
  | 'truncated'
  | 'garbage'
  | 'protocol-violation'

export interface Mutated {
  kind: MutationKind
  bytes: Buffer
}

/**
 * Builds the packets of one fuzz connection. `maxPacketBytes` is the broker's limit, so oversize
 * packets are just over it and valid ones stay under it.
 */
export class MqttMutator {
  private messageId = 1

  constructor(
    private readonly rng: Prng,
    private readonly maxPacketBytes: number,
  ) {}

  private nextId(): number {
    this.messageId = (this.messageId % 65535) + 1
    return this.messageId
  }

  private topic(): string {
    const r = this.rng
    const levels = r.range(1, 6)
    const words = ['sensors', 'temp', 'dev', 'a', '', 'ü', '日本', 'x'.repeat(r.range(1, 40)), '$x', 'b c']
    return Array.from({ length: levels }, () => r.pick(words)).join('/') || 't'
  }

  private payload(): Buffer {
    const r = this.rng
    return r.chance(0.9)
      ? r.bytes(r.range(0, 64))
      : r.bytes(r.range(0, Math.min(8192, this.maxPacketBytes / 2)))
  }

  /** A CONNECT that a broker should accept. */
  validConnect(clientId: string): Buffer {
    return connect({ clientId, clean: true, keepalive: this.rng.range(0, 120) })
  }

  /** A packet a connected client may legitimately send (the broker answers and stays connected). */
  valid(): Buffer {
    const r = this.rng
    switch (r.int(9)) {
      case 0:
      case 1:
      case 2:
        return publish(this.topic(), this.payload(), r.pick([0, 1, 1, 2]), this.nextId(), {
          retain: r.chance(0.05),
          dup: r.chance(0.1),
        })
      case 3:
        return subscribe(this.nextId(), [[r.chance(0.5) ? this.topic() : `${this.topic()}/+/#`, r.int(3)]])
      case 4:
        return unsubscribe(this.nextId(), [this.topic()])
      case 5:
        return frame(PINGREQ, 0, Buffer.alloc(0))
      case 6:
        return ack(PUBACK, 0, r.range(1, 65535)) // for a message id never sent: ignored
      case 7:
        return ack(PUBREL, 0x02, r.range(1, 65535)) // [MQTT-3.6.1-1] flags 0010
      default:
        return r.chance(0.5) ? ack(PUBREC, 0, r.range(1, 65535)) : ack(PUBCOMP, 0, r.range(1, 65535))
    }
  }

  /** One hostile packet (or byte string) of a random kind. */
  hostile(): Mutated {
    const r = this.rng
    const kind = r.pick<MutationKind>([
      'bad-remaining-length',
      'invalid-utf8-topic',
      'invalid-utf8-client-id',
      'reserved-bits',
      'wildcard-publish',
      'many-topic-levels',
      'duplicate-connect',
      'oversize',
      'byte-flip',
      'byte-flip',
      'truncated',
      'garbage',
      'protocol-violation',
    ])
    return { kind, bytes: this.build(kind) }
  }

  private build(kind: MutationKind): Buffer {
    const r = this.rng
    switch (kind) {
      case 'bad-remaining-length': {
        const type = r.range(1, 14) << 4
        const variants = [
          Buffer.from([type, 0xff, 0xff, 0xff, 0xff, 0x7f]), // five length bytes [MQTT-2.2.3]
          Buffer.from([type, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
          Buffer.from([type, 0x80, 0x00]), // non-minimal encoding of 0
          Buffer.concat([Buffer.from([0x30]), encodeLength(r.range(3, 200)), r.bytes(r.range(0, 3))]), // says more than follows
          Buffer.concat([Buffer.from([0x32, 0x01]), r.bytes(r.range(2, 30))]), // says less than follows
        ]
        return r.pick(variants)
      }
      case 'invalid-utf8-topic': {
        const bad = r.pick(BAD_UTF8)
        const topic = Buffer.concat([Buffer.from('t/'), bad, Buffer.from('/x')])
        return r.chance(0.7)
          ? publish(topic, this.payload(), r.int(3), this.nextId())
          : subscribe(this.nextId(), [[topic, r.int(3)]])
      }
      case 'invalid-utf8-client-id':
        return connect({ clientId: Buffer.concat([Buffer.from('id'), r.pick(BAD_UTF8)]) })
      case 'reserved-bits': {
        const variants = [
          () => frame(0, 0, Buffer.alloc(0)), // type 0 is reserved
          () => frame(15, 0, r.bytes(r.range(0, 8))), // type 15 is reserved in 3.1.1
          () => publish(this.topic(), this.payload(), 3, this.nextId()), // QoS 3 [MQTT-3.3.1-4]
          () => subscribe(this.nextId(), [[this.topic(), 1]], r.pick([0, 1, 3, 0xf])), // [MQTT-3.8.1-1]
          () => subscribe(this.nextId(), [[this.topic(), r.range(3, 255)]]), // requested QoS > 2 [MQTT-3-8.3-4]
          () => frame(PINGREQ, r.range(1, 15), Buffer.alloc(0)), // flags must be 0
          () => ack(PUBREL, 0, r.range(1, 65535)), // PUBREL flags must be 0010
          () => frame(DISCONNECT, r.range(1, 15), Buffer.alloc(0)),
          () => connect({ clientId: `rb-${r.int(1e9)}`, extraFlags: 0x01 }), // reserved connect flag [MQTT-3.1.2-3]
        ]
        return r.pick(variants)()
      }
      case 'wildcard-publish': {
        const topic = r.pick(['a/+/b', '#', 'a/#', '+', 'a/b#', 'a+/b', '+/+/+', `${this.topic()}/#`])
        return publish(topic, this.payload(), r.int(3), this.nextId()) // [MQTT-3.3.2-2]
      }
      case 'many-topic-levels': {
        const levels = r.range(1000, 8000)
        const topic = Array.from({ length: levels }, () => r.pick(['a', '', 'b', '+'])).join('/')
        return r.chance(0.6)
          ? publish(topic.replaceAll('+', 'p'), this.payload(), r.int(3), this.nextId())
          : subscribe(this.nextId(), [[topic, r.int(3)]])
      }
      case 'duplicate-connect':
        return this.validConnect(`dup-${r.int(1e9)}`) // [MQTT-3.1.0-2] a second CONNECT is a violation
      case 'oversize': {
        const total = this.maxPacketBytes + r.range(1, 4 * this.maxPacketBytes)
        // The header announces the whole packet; send a little of the body only.
        return Buffer.concat([Buffer.from([0x30]), encodeLength(total), r.bytes(r.range(0, 512))])
      }
      case 'byte-flip': {
        const base = this.valid()
        const flips = r.range(1, 4)
        for (let i = 0; i < flips; i++) {
          const at = r.int(base.length)
          base[at] = (base[at] as number) ^ (1 << r.int(8))
        }
        return base
      }
      case 'truncated': {
        const base = this.valid()
        return base.subarray(0, r.int(base.length))
      }
      case 'garbage':
        return r.bytes(r.range(1, 512))
      case 'protocol-violation': {
        const variants = [
          () => publish('', this.payload(), r.int(3), this.nextId()), // empty topic [MQTT-4.7.3-1]
          () => publish(this.topic(), this.payload(), 1, 0), // packet id 0 [MQTT-2.3.1-1]
          () => subscribe(this.nextId(), []), // no topic filter [MQTT-3.8.3-3]
          () => unsubscribe(this.nextId(), []), // [MQTT-3.10.3-2]
          () => subscribe(this.nextId(), [['', 0]]),
          () => subscribe(this.nextId(), [['a/#/b', 1]]), // '#' not last [MQTT-4.7.1-2]
          () => frame(PUBACK, 0, Buffer.from([1])), // too short
          () =>
            connect({
              clientId: 'x',
              protocolName: r.pick(['MQIsdp', 'MQTX', '']),
              protocolLevel: r.int(256),
            }),
          () => connect({ clientId: '', clean: false }), // [MQTT-3.1.3-8]
          () => connect({ clientId: 'x'.repeat(r.range(200, 5000)) }),
          () =>
            connect({
              clientId: `w-${r.int(1e9)}`,
              will: { topic: 'w/#', payload: Buffer.from('bye'), qos: 3, retain: true },
            }),
          () => connect({ clientId: `p-${r.int(1e9)}`, password: Buffer.from('pw') }), // password without username [MQTT-3.1.2-22]
        ]
        return r.pick(variants)()
      }
      case 'valid':
        return this.valid()
    }
  }
}
