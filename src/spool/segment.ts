/**
 * Segment files: `<dir>/<firstSeq, 20 digits>.seg`, an append-only run of frames.
 *
 * Invariants:
 * - A segment's name is the seq of its first frame; frames inside follow with increasing seq. So
 *   the seq range of a sealed segment is known from two names, without reading it.
 * - Only the newest segment (the active one) is ever written; older ones are sealed and immutable.
 * - The active segment is never deleted, even when fully committed: its name keeps seq from going
 *   backwards across restarts.
 *
 * Header, 16 bytes. DO NOT REORDER FIELDS.
 *   0  4  magic "EBSG"
 *   4  1  segment format version (SEGMENT_VERSION = 1)
 *   5  3  reserved (0)
 *   8  8  firstSeq (u64: low u32, high u32), the same number as the file name
 * The header is informative: the name is authoritative, and frames carry their own version, so a
 * damaged header costs nothing.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'

export const SEGMENT_HEADER_BYTES = 16
export const SEGMENT_VERSION = 1
export const SEGMENT_SUFFIX = '.seg'
const MAGIC = Buffer.from('EBSG', 'latin1')
const TWO_32 = 0x1_0000_0000

export function segmentFileName(firstSeq: number): string {
  return `${String(firstSeq).padStart(20, '0')}${SEGMENT_SUFFIX}`
}

export function segmentPath(dir: string, firstSeq: number): string {
  return join(dir, segmentFileName(firstSeq))
}

export function encodeSegmentHeader(firstSeq: number): Buffer {
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES)
  MAGIC.copy(buf, 0)
  buf[4] = SEGMENT_VERSION
  buf.writeUInt32LE(firstSeq % TWO_32, 8)
  buf.writeUInt32LE(Math.floor(firstSeq / TWO_32), 12)
  return buf
}

/** First seqs of the segments in `dir`, oldest first. Other files (temp files, strays) are ignored. */
export async function listSegments(dir: string): Promise<number[]> {
  const names = await readdir(dir)
  const seqs: number[] = []
  for (const name of names) {
    const m = /^(\d{20})\.seg$/.exec(name)
    if (m !== null) seqs.push(Number(m[1]))
  }
  return seqs.sort((a, b) => a - b)
}

/** A segment as the spool tracks it in memory. */
export interface SegmentInfo {
  firstSeq: number
  /** Bytes in the file that hold whole frames written by us or recovered (the readable end). */
  size: number
  /** No more frames will be added (a newer segment exists). */
  sealed: boolean
}
