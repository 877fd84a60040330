/**
 * Frame codec: one SpooledRecord <-> one self-checking frame on disk. Runs once per message on append
 * and once per record on read, so it is a fixed-layout binary encoding (no JSON, no varints).
 *
 * Frame (all integers little-endian). DO NOT REORDER FIELDS: files written by older versions must
 * stay readable; a new layout gets a new FRAME_VERSION and a new decode branch.
 *
 *   offset size  field
 *   0      2     magic 0xEB 0x5F             resync anchor after corruption
 *   2      1     version (FRAME_VERSION = 1)  format of the body
 *   3      1     kind (1 = record)            room for future frame kinds
 *   4      4     bodyLength
 *   8      4     crc32 over bytes 0..7 then the body (zlib.crc32), so a flipped length is caught too
 *   12     ...   body
 *
 * Record body, version 1:
 *
 *   0      8     seq (u64: low u32, high u32)
 *   8      8     receivedAt (f64, ms since epoch)
 *   16     1     qos
 *   17     1     flags: bit0 retain, bit1 has username, bit2 has key
 *   18     1     codec (0 raw, 1 json, 2 msgpack, 3 cloudevents)
 *   19     1     reserved (0)
 *   20     2     topic bytes          (u16 each: MQTT strings are at most 65,535 bytes [MQTT-1.5.3])
 *   22     2     clientId bytes
 *   24     2     username bytes
 *   26     2     gatewayId bytes
 *   28     2     target bytes
 *   30     2     key bytes
 *   32     4     payload bytes
 *   36     ...   topic, clientId, username, gatewayId, target, key (UTF-8), then payload
 */
import { crc32 } from 'node:zlib'
import { EdgebridgeError } from '../errors.js'
import type { Codec, QoS, RecordInput, SpooledRecord } from '../record.js'

export const FRAME_MAGIC_0 = 0xeb
export const FRAME_MAGIC_1 = 0x5f
export const FRAME_VERSION = 1
export const FRAME_KIND_RECORD = 1
export const FRAME_HEADER_BYTES = 12
export const BODY_FIXED_BYTES = 36
/** Largest body accepted on read; anything larger is a corrupt length, not a record. */
export const MAX_BODY_BYTES = 256 * 1024 * 1024 // 256 MiB
const MAX_STRING_BYTES = 0xffff
const TWO_32 = 0x1_0000_0000

const CODECS: readonly Codec[] = ['raw', 'json', 'msgpack', 'cloudevents']
const CODEC_IDS: Record<Codec, number> = { raw: 0, json: 1, msgpack: 2, cloudevents: 3 }

function stringBytes(name: string, value: string): number {
  const n = Buffer.byteLength(value, 'utf8')
  if (n > MAX_STRING_BYTES) {
    throw new EdgebridgeError(
      'SPOOL_IO',
      `record ${name} is ${n} bytes; the spool stores at most ${MAX_STRING_BYTES}`,
    )
  }
  return n
}

/** Encode a record into a complete frame for `seq`, CRC included. */
export function encodeFrame(record: RecordInput, seq: number): Buffer {
  const topicLen = stringBytes('topic', record.topic)
  const clientIdLen = stringBytes('clientId', record.clientId)
  const usernameLen = record.username === undefined ? 0 : stringBytes('username', record.username)
  const gatewayIdLen = stringBytes('gatewayId', record.gatewayId)
  const targetLen = stringBytes('target', record.target)
  const keyLen = record.key === undefined ? 0 : stringBytes('key', record.key)
  const bodyLen =
    BODY_FIXED_BYTES +
    topicLen +
    clientIdLen +
    usernameLen +
    gatewayIdLen +
    targetLen +
    keyLen +
    record.payload.length
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyLen)
  buf[0] = FRAME_MAGIC_0
  buf[1] = FRAME_MAGIC_1
  buf[2] = FRAME_VERSION
  buf[3] = FRAME_KIND_RECORD
  buf.writeUInt32LE(bodyLen, 4)
  const b = FRAME_HEADER_BYTES
  buf.writeUInt32LE(seq % TWO_32, b)
  buf.writeUInt32LE(Math.floor(seq / TWO_32), b + 4)
  buf.writeDoubleLE(record.receivedAt, b + 8)
  buf[b + 16] = record.qos
  buf[b + 17] =
    (record.retain ? 1 : 0) | (record.username !== undefined ? 2 : 0) | (record.key !== undefined ? 4 : 0)
  buf[b + 18] = CODEC_IDS[record.codec]
  buf[b + 19] = 0
  buf.writeUInt16LE(topicLen, b + 20)
  buf.writeUInt16LE(clientIdLen, b + 22)
  buf.writeUInt16LE(usernameLen, b + 24)
  buf.writeUInt16LE(gatewayIdLen, b + 26)
  buf.writeUInt16LE(targetLen, b + 28)
  buf.writeUInt16LE(keyLen, b + 30)
  buf.writeUInt32LE(record.payload.length, b + 32)
  let p = b + BODY_FIXED_BYTES
  p += buf.write(record.topic, p, topicLen, 'utf8')
  p += buf.write(record.clientId, p, clientIdLen, 'utf8')
  if (usernameLen > 0) p += buf.write(record.username!, p, usernameLen, 'utf8')
  p += buf.write(record.gatewayId, p, gatewayIdLen, 'utf8')
  p += buf.write(record.target, p, targetLen, 'utf8')
  if (keyLen > 0) p += buf.write(record.key!, p, keyLen, 'utf8')
  record.payload.copy(buf, p)
  buf.writeUInt32LE(frameCrc(buf, 0, bodyLen), 8)
  return buf
}

/**
 * Frame size on disk for a record (what the disk spool counts against maxBytes). Throws, like
 * encodeFrame, when a string is too long to store, so an append can be refused before it gets a seq.
 */
export function frameSize(record: RecordInput): number {
  return (
    FRAME_HEADER_BYTES +
    BODY_FIXED_BYTES +
    stringBytes('topic', record.topic) +
    stringBytes('clientId', record.clientId) +
    (record.username === undefined ? 0 : stringBytes('username', record.username)) +
    stringBytes('gatewayId', record.gatewayId) +
    stringBytes('target', record.target) +
    (record.key === undefined ? 0 : stringBytes('key', record.key)) +
    record.payload.length
  )
}

function frameCrc(buf: Buffer, at: number, bodyLen: number): number {
  const headerCrc = crc32(buf.subarray(at, at + 8))
  return crc32(buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + bodyLen), headerCrc)
}

/** Why a frame could not be decoded: every read error is a named case. */
export type FrameError =
  | { kind: 'short'; needed: number } // not enough bytes in the buffer yet (or a torn tail)
  | { kind: 'bad-magic' }
  | { kind: 'bad-version'; version: number }
  | { kind: 'bad-length'; length: number }
  | { kind: 'checksum'; calculated: number; stored: number }
  | { kind: 'bad-body'; reason: string }

export type FrameResult = { kind: 'ok'; record: SpooledRecord; frameBytes: number } | FrameError

/**
 * Check the frame header at `at`: magic, version, sane length. Returns the full frame size, or the
 * error. Needs only FRAME_HEADER_BYTES; recovery uses it to walk frames cheaply.
 */
export function checkHeader(
  buf: Buffer,
  at: number,
  end: number,
): { kind: 'ok'; frameBytes: number } | FrameError {
  if (end - at < FRAME_HEADER_BYTES) return { kind: 'short', needed: FRAME_HEADER_BYTES }
  if (buf[at] !== FRAME_MAGIC_0 || buf[at + 1] !== FRAME_MAGIC_1) return { kind: 'bad-magic' }
  if (buf[at + 2] !== FRAME_VERSION || buf[at + 3] !== FRAME_KIND_RECORD)
    return { kind: 'bad-version', version: buf[at + 2]! }
  const length = buf.readUInt32LE(at + 4)
  if (length < BODY_FIXED_BYTES || length > MAX_BODY_BYTES) return { kind: 'bad-length', length }
  return { kind: 'ok', frameBytes: FRAME_HEADER_BYTES + length }
}

/** Verify header and CRC of the frame at `at` without decoding it. */
export function verifyFrame(
  buf: Buffer,
  at: number,
  end: number,
): { kind: 'ok'; frameBytes: number } | FrameError {
  const h = checkHeader(buf, at, end)
  if (h.kind !== 'ok') return h
  if (end - at < h.frameBytes) return { kind: 'short', needed: h.frameBytes }
  const calculated = frameCrc(buf, at, h.frameBytes - FRAME_HEADER_BYTES)
  const stored = buf.readUInt32LE(at + 8)
  if (calculated !== stored) return { kind: 'checksum', calculated, stored }
  return h
}

/** The seq of a frame already verified (cheap: no decoding). */
export function frameSeq(buf: Buffer, at: number): number {
  const b = at + FRAME_HEADER_BYTES
  return buf.readUInt32LE(b) + buf.readUInt32LE(b + 4) * TWO_32
}

/** The receivedAt of a frame whose fixed body part is in `buf` (for the spool's oldest-age stat). */
export function frameReceivedAt(buf: Buffer, at: number): number {
  return buf.readDoubleLE(at + FRAME_HEADER_BYTES + 8)
}

/**
 * Verify and decode the frame at `at`. The payload is a view into `buf` (no copy): callers hand out
 * buffers they never reuse.
 */
export function decodeFrame(buf: Buffer, at: number, end: number): FrameResult {
  const v = verifyFrame(buf, at, end)
  if (v.kind !== 'ok') return v
  const b = at + FRAME_HEADER_BYTES
  const bodyEnd = at + v.frameBytes
  const qos = buf[b + 16]!
  const flags = buf[b + 17]!
  const codec = CODECS[buf[b + 18]!]
  if (qos > 2) return { kind: 'bad-body', reason: `qos ${qos}` }
  if (codec === undefined) return { kind: 'bad-body', reason: `codec ${buf[b + 18]}` }
  const lens = [
    buf.readUInt16LE(b + 20),
    buf.readUInt16LE(b + 22),
    buf.readUInt16LE(b + 24),
    buf.readUInt16LE(b + 26),
    buf.readUInt16LE(b + 28),
    buf.readUInt16LE(b + 30),
  ] as const
  const payloadLen = buf.readUInt32LE(b + 32)
  let p = b + BODY_FIXED_BYTES
  if (p + lens[0] + lens[1] + lens[2] + lens[3] + lens[4] + lens[5] + payloadLen !== bodyEnd) {
    return { kind: 'bad-body', reason: 'field lengths do not add up to the frame length' }
  }
  const str = (n: number): string => {
    const s = buf.toString('utf8', p, p + n)
    p += n
    return s
  }
  const topic = str(lens[0])
  const clientId = str(lens[1])
  const username = flags & 2 ? str(lens[2]) : undefined
  const gatewayId = str(lens[3])
  const target = str(lens[4])
  const key = flags & 4 ? str(lens[5]) : undefined
  const record: SpooledRecord = {
    seq: buf.readUInt32LE(b) + buf.readUInt32LE(b + 4) * TWO_32,
    receivedAt: buf.readDoubleLE(b + 8),
    qos: qos as QoS,
    retain: (flags & 1) === 1,
    codec,
    topic,
    clientId,
    gatewayId,
    target,
    payload: buf.subarray(p, bodyEnd),
  }
  if (username !== undefined) record.username = username
  if (key !== undefined) record.key = key
  return { kind: 'ok', record, frameBytes: v.frameBytes }
}
