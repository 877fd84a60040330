/**
 * The bench payload: a 16-byte header, then filler up to the configured size. The header carries
 * the message's sequence number and its *scheduled* send time, so the consumer on the core measures
 * latency from when the message should have left, whatever delayed it (no coordinated omission).
 *
 * Layout (big-endian; do not reorder fields, consumers of older result files decode it):
 *   0..3   magic 0x45424231 ("EBB1")
 *   4..7   sequence number (uint32) within the run
 *   8..15  scheduled send time: ms on the bench clock (float64, see clock.ts)
 */
export const HEADER_BYTES = 16
const MAGIC = 0x45424231

export function encodePayload(size: number, seq: number, scheduledMs: number): Buffer {
  const buf = Buffer.alloc(Math.max(size, HEADER_BYTES), 0x61)
  buf.writeUInt32BE(MAGIC, 0)
  buf.writeUInt32BE(seq >>> 0, 4)
  buf.writeDoubleBE(scheduledMs, 8)
  return buf
}

export interface DecodedPayload {
  seq: number
  scheduledMs: number
}

/** undefined for anything that is not a bench payload (e.g. a stray message on a shared server). */
export function decodePayload(buf: Uint8Array): DecodedPayload | undefined {
  if (buf.length < HEADER_BYTES) return undefined
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (b.readUInt32BE(0) !== MAGIC) return undefined
  return { seq: b.readUInt32BE(4), scheduledMs: b.readDoubleBE(8) }
}
