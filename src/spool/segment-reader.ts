/**
 * The reader: walks frames forward from a position, reading segment files in big chunks (one
 * syscall per chunk, never one per record) and decoding records straight out of the chunk.
 *
 * Invariants:
 * - It never reads past a segment's `size` (what the writer finished writing), so it never sees a
 *   half-written frame of its own process.
 * - Every record it returns passed the CRC check, and seqs it returns only increase: a frame whose
 *   seq is not above the last one returned is treated as corrupt (stale bytes can never go back in
 *   time).
 * - A chunk buffer is never reused after records were decoded from it: payloads are views into it.
 *
 * Corruption: on a bad frame (bad magic, version or length; CRC mismatch; a body that does not
 * parse) the reader RESYNCS: it scans forward byte by byte for the next offset where a whole frame
 * verifies (magic, sane length, CRC), within the same segment; when none is left, it moves on to the
 * next segment. The records lost are counted from the seq gap (at least one per corrupt region).
 */
import { open, type FileHandle } from 'node:fs/promises'
import type { SpooledRecord } from '../record.js'
import {
  checkHeader,
  decodeFrame,
  FRAME_HEADER_BYTES,
  FRAME_MAGIC_0,
  type FrameResult,
} from './frame-codec.js'
import { SEGMENT_HEADER_BYTES, segmentPath, type SegmentInfo } from './segment.js'

export const DEFAULT_READ_CHUNK_BYTES = 1024 * 1024 // 1 MiB

/** The segment ends before the frame does (a frame is never read past what the writer finished). */
type ShortFrame = 'short frame header' | 'frame runs past the end of the segment'

export interface Position {
  /** firstSeq (name) of the segment. */
  segment: number
  offset: number
}

export interface ReadItem {
  record: SpooledRecord
  frameBytes: number
  /** Position just after this frame: the commit point once this record is confirmed. */
  end: Position
  /** Log bytes (frames and skipped garbage, not segment headers) this record moved the reader by. */
  consumed: number
}

export interface CorruptDetail {
  segment: number
  offset: number
  reason: string
  /** The seqs lost: fromSeq..toSeq. */
  fromSeq: number
  toSeq: number
}

export interface SegmentReaderOptions {
  dir: string
  segments: SegmentInfo[]
  chunkBytes?: number
  /**
   * Called with records lost to corruption (an estimate from the seq gap, at least 1 per region):
   * first for the one seq the bad frame should have held, then, once the next good frame shows
   * where the gap ends, for the rest of the range.
   */
  onCorrupt(lost: number, detail: CorruptDetail): void
}

export class SegmentReader {
  private pos: Position
  private expectedSeq: number
  private buf: Buffer = Buffer.alloc(0)
  /** File offset of buf[0], in segment `bufSegment`. */
  private bufStart = 0
  private bufSegment = -1
  private fh: FileHandle | undefined
  private fhSegment = -1
  private consumed = 0
  /** A corrupt region was skipped; the next good frame's seq tells how many records it held. */
  private gapOpen = false
  private readonly chunkBytes: number

  constructor(
    private readonly o: SegmentReaderOptions,
    start: Position,
    expectedSeq: number,
  ) {
    this.chunkBytes = o.chunkBytes ?? DEFAULT_READ_CHUNK_BYTES
    this.pos = { ...start }
    this.expectedSeq = expectedSeq
  }

  get position(): Position {
    return { ...this.pos }
  }

  /** Move to `pos`; `expectedSeq` is the lowest seq that may come next. */
  seek(pos: Position, expectedSeq: number): void {
    this.pos = { ...pos }
    this.expectedSeq = expectedSeq
    this.consumed = 0
    this.gapOpen = false
  }

  /** Records available now, up to the limits (at least one if any). [] when caught up. */
  async next(maxRecords: number, maxBytes: number): Promise<ReadItem[]> {
    const out: ReadItem[] = []
    let bytes = 0
    while (out.length < maxRecords) {
      const seg = this.currentSegment()
      if (seg === undefined) break
      const end = seg.size
      if (this.pos.offset >= end) {
        const i = this.o.segments.indexOf(seg)
        const nextSeg = this.o.segments[i + 1]
        if (nextSeg === undefined) break
        this.consumed += Math.max(0, end - this.pos.offset)
        this.pos = { segment: nextSeg.firstSeq, offset: SEGMENT_HEADER_BYTES }
        continue
      }
      const r = await this.frameAt(seg, this.pos.offset)
      if (r.kind !== 'ok') {
        await this.skipCorrupt(seg, r.kind)
        continue
      }
      if (r.record.seq < this.expectedSeq) {
        await this.skipCorrupt(seg, 'seq went backwards')
        continue
      }
      if (out.length > 0 && bytes + r.frameBytes > maxBytes) break
      if (this.gapOpen) {
        this.gapOpen = false
        const extra = r.record.seq - this.expectedSeq - 1
        if (extra > 0)
          this.o.onCorrupt(extra, {
            segment: seg.firstSeq,
            offset: this.pos.offset,
            reason: 'gap',
            fromSeq: this.expectedSeq + 1,
            toSeq: r.record.seq - 1,
          })
      }
      this.pos.offset += r.frameBytes
      this.consumed += r.frameBytes
      this.expectedSeq = r.record.seq + 1
      out.push({ record: r.record, frameBytes: r.frameBytes, end: { ...this.pos }, consumed: this.consumed })
      this.consumed = 0
      bytes += r.frameBytes
    }
    return out
  }

  async close(): Promise<void> {
    const fh = this.fh
    this.fh = undefined
    this.fhSegment = -1
    await fh?.close()
  }

  private currentSegment(): SegmentInfo | undefined {
    const segs = this.o.segments
    for (const s of segs) {
      if (s.firstSeq === this.pos.segment) return s
      if (s.firstSeq > this.pos.segment) {
        // Our segment is gone (dropped under us): continue at the next one that exists.
        this.pos = { segment: s.firstSeq, offset: SEGMENT_HEADER_BYTES }
        return s
      }
    }
    return undefined
  }

  private bufEndOffset(seg: SegmentInfo): number {
    return Math.min(this.bufStart + this.buf.length, seg.size)
  }

  /** Make [offset, offset + n) of `seg` available in `buf`; false if the segment ends first. */
  private async ensure(seg: SegmentInfo, offset: number, n: number): Promise<boolean> {
    if (offset + n > seg.size) return false
    if (
      this.bufSegment === seg.firstSeq &&
      offset >= this.bufStart &&
      offset + n <= this.bufStart + this.buf.length
    ) {
      return true
    }
    const len = Math.min(Math.max(this.chunkBytes, n), seg.size - offset)
    const buf = Buffer.allocUnsafe(len)
    const fh = await this.handle(seg.firstSeq)
    let got = 0
    while (got < len) {
      const { bytesRead } = await fh.read(buf, got, len - got, offset + got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    this.buf = got === len ? buf : buf.subarray(0, got)
    this.bufStart = offset
    this.bufSegment = seg.firstSeq
    return offset + n <= this.bufStart + this.buf.length
  }

  private async handle(segment: number): Promise<FileHandle> {
    if (this.fh !== undefined && this.fhSegment === segment) return this.fh
    await this.close()
    this.fh = await open(segmentPath(this.o.dir, segment), 'r')
    this.fhSegment = segment
    return this.fh
  }

  /** The frame at pos is bad: count it and move to the next frame that verifies, or the segment end. */
  private async skipCorrupt(seg: SegmentInfo, reason: string): Promise<void> {
    const from = this.pos.offset
    if (!this.gapOpen) {
      const seq = this.expectedSeq
      this.o.onCorrupt(1, { segment: seg.firstSeq, offset: from, reason, fromSeq: seq, toSeq: seq })
    }
    this.gapOpen = true
    let i = from + 1
    while (i < seg.size) {
      await this.ensure(seg, i, Math.min(FRAME_HEADER_BYTES, seg.size - i))
      const bufEnd = this.bufEndOffset(seg)
      const local = this.buf.indexOf(FRAME_MAGIC_0, i - this.bufStart)
      if (local < 0 || this.bufStart + local >= bufEnd) {
        i = bufEnd
        continue
      }
      const at = this.bufStart + local
      if (await this.frameVerifiesAt(seg, at)) {
        this.moveTo(at)
        return
      }
      i = at + 1
    }
    this.moveTo(seg.size)
  }

  /** The whole frame at `at`, verified and decoded, or why there is none. */
  private async frameAt(seg: SegmentInfo, at: number): Promise<FrameResult | { kind: ShortFrame }> {
    if (!(await this.ensure(seg, at, FRAME_HEADER_BYTES))) return { kind: 'short frame header' }
    const h = checkHeader(this.buf, at - this.bufStart, this.bufEndOffset(seg) - this.bufStart)
    if (h.kind !== 'ok') return h
    if (!(await this.ensure(seg, at, h.frameBytes))) return { kind: 'frame runs past the end of the segment' }
    return decodeFrame(this.buf, at - this.bufStart, this.bufEndOffset(seg) - this.bufStart)
  }

  /** A whole frame at `at` verifies and its seq is not in the past. */
  private async frameVerifiesAt(seg: SegmentInfo, at: number): Promise<boolean> {
    const r = await this.frameAt(seg, at)
    return r.kind === 'ok' && r.record.seq >= this.expectedSeq
  }

  private moveTo(offset: number): void {
    this.consumed += offset - this.pos.offset
    this.pos.offset = offset
  }
}
