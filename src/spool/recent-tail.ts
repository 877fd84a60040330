/**
 * The recent tail: the records this process just wrote, kept in memory so the forwarder sends them
 * without reading back from the segment file what was just written there. The segment files are read
 * only for a backlog larger than the tail, and after a restart.
 *
 * Invariants:
 * - A record enters once its frame was written (never before: a record is readable once written,
 *   whatever its durability), in write order, which is seq order.
 * - The tail holds every record written after seq `base`: a reader whose cursor is at or past `base`
 *   finds in it everything there is to read. Older records were evicted (or written before this
 *   process started); such a reader reads the files until it reaches `base`.
 * - Bounded: the frame bytes held stay within `maxBytes` (one record more is kept alone). The oldest
 *   are evicted first, so what the tail holds is always the newest run of records.
 * - A record leaves once it is handed out (or the cursor passed it): the forwarder holds the batch
 *   from then on.
 *
 * Memory: a record's payload is the buffer the broker parsed it into; the tail holds it as it is.
 */
import type { ReadItem } from './segment-reader.js'

export const DEFAULT_TAIL_BYTES = 4 * 1024 * 1024 // 4 MiB of frames

/** A record as a reader of the file would return it: its frame's length, where it ends, what it consumed. */
export type TailRecord = ReadItem

export class RecentTail {
  /** The records held, oldest first, from `first`. */
  private items: TailRecord[] = []
  private first = 0
  /** Frame bytes held. */
  private bytes = 0
  /** The seq of the newest record written but no longer here (evicted, or written before). */
  private base: number

  /** `lastWrittenSeq`: the newest seq in the files when the tail starts (after recovery). */
  constructor(
    private readonly maxBytes: number,
    lastWrittenSeq: number,
  ) {
    this.base = lastWrittenSeq
  }

  /** A record's frame was written. */
  push(item: TailRecord): void {
    this.items.push(item)
    this.bytes += item.frameBytes
    while (this.bytes > this.maxBytes && this.items.length - this.first > 1) this.evictOldest()
    this.compact()
  }

  /**
   * The records after `cursorSeq`, at most `maxRecords` and `maxBytes` (but at least one), taken out
   * of the tail; [] when there is none yet; undefined when the tail cannot tell (the next record was
   * evicted: read it from the files).
   */
  take(cursorSeq: number, maxRecords: number, maxBytes: number): TailRecord[] | undefined {
    if (!this.holdsAllAfter(cursorSeq)) return undefined
    while (this.first < this.items.length && this.items[this.first]!.record.seq <= cursorSeq) this.drop()
    const out: TailRecord[] = []
    let bytes = 0
    while (this.first < this.items.length && out.length < maxRecords) {
      const item = this.items[this.first]!
      if (out.length > 0 && bytes + item.frameBytes > maxBytes) break
      out.push(item)
      bytes += item.frameBytes
      this.drop()
    }
    this.compact()
    return out
  }

  /** Every record written after `cursorSeq` is here (none was evicted or written before the tail). */
  holdsAllAfter(cursorSeq: number): boolean {
    return cursorSeq >= this.base
  }

  /**
   * When the first record after `cursorSeq` was received (the oldest-age stat), if the tail holds it;
   * undefined when it does not (evicted, or not written yet).
   */
  receivedAtAfter(cursorSeq: number): number | undefined {
    if (!this.holdsAllAfter(cursorSeq)) return undefined
    for (let i = this.first; i < this.items.length; i++) {
      const record = this.items[i]!.record
      if (record.seq > cursorSeq) return record.receivedAt
    }
    return undefined
  }

  private evictOldest(): void {
    this.base = this.items[this.first]!.record.seq
    this.drop()
  }

  private drop(): void {
    this.bytes -= this.items[this.first]!.frameBytes
    this.items[this.first] = undefined as unknown as TailRecord
    this.first++
  }

  private compact(): void {
    if (this.first === this.items.length) {
      this.items = []
      this.first = 0
    } else if (this.first > 1024 && this.first * 2 > this.items.length) {
      this.items = this.items.slice(this.first)
      this.first = 0
    }
  }
}
