/**
 * How an aedes packet is kept in a row: its fields as JSON, its payload as a BLOB beside them.
 *
 * The payload stays out of the JSON so a binary payload is stored as its bytes (JSON would inflate it
 * fourfold as an array of numbers), and its kind is kept so a payload that came in as a string (aedes'
 * API allows both) reads back as a string. MQTT 5 properties may hold Buffers (correlation data); the
 * reviver turns Node's JSON form of a Buffer back into one.
 */

/** Do not renumber: stored in every row. */
export const PayloadKind = { Buffer: 0, String: 1, None: 2 } as const
export type PayloadKind = (typeof PayloadKind)[keyof typeof PayloadKind]

export interface EncodedPacket {
  /** Every field of the packet but the payload. */
  fields: string
  payload: Buffer
  kind: PayloadKind
  /** Payload bytes plus topic length: what a queue limit in bytes counts. */
  bytes: number
}

type PacketLike = { payload?: unknown; topic?: unknown } & Record<string, unknown>

export function encodePacket(packet: object): EncodedPacket {
  const { payload, ...fields } = packet as PacketLike
  let bytes: Buffer
  let kind: PayloadKind
  if (payload === undefined || payload === null) {
    bytes = Buffer.alloc(0)
    kind = PayloadKind.None
  } else if (typeof payload === 'string') {
    bytes = Buffer.from(payload, 'utf8')
    kind = PayloadKind.String
  } else {
    bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(payload as Uint8Array)
    kind = PayloadKind.Buffer
  }
  const topicBytes = typeof fields.topic === 'string' ? Buffer.byteLength(fields.topic) : 0
  return { fields: JSON.stringify(fields), payload: bytes, kind, bytes: bytes.length + topicBytes }
}

export function decodePacket(fields: string, payload: Buffer, kind: PayloadKind): Record<string, unknown> {
  const packet = JSON.parse(fields, reviveBuffers) as Record<string, unknown>
  if (kind === PayloadKind.String) packet.payload = payload.toString('utf8')
  else if (kind === PayloadKind.Buffer) packet.payload = payload
  return packet
}

function reviveBuffers(_key: string, value: unknown): unknown {
  if (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  ) {
    return Buffer.from((value as { data: number[] }).data)
  }
  return value
}
