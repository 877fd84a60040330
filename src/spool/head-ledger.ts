/**
 * The head ledger: where the disk spool's unconfirmed records begin (the head), which records the
 * forwarder read and the core has not confirmed yet (in flight), and the commit file that carries
 * the head across a restart.
 *
 * Invariants:
 * - Every record with seq <= `headSeq` has left the spool (the core confirmed it, or it was dropped
 *   and counted); the first record still in the spool starts at `head`.
 * - In-flight records are kept in read order; confirming seq N moves the head to the end of the last
 *   in-flight record at or below N. The head never moves backwards.
 * - The commit file lags the in-memory head by up to `intervalMs`: after a crash the records
 *   confirmed in that window are sent again (duplicates), never lost.
 * - The commit file moves past a drop only once the drop listener (the loss ledger) recorded it, and
 *   a segment is deleted only once a durable commit file lies beyond it.
 */
import { writeCommitPoint, type CommitPoint } from './commit-point.js'
import type { Position } from './segment-reader.js'
import { SEGMENT_HEADER_BYTES, segmentPath, type SegmentInfo } from './segment.js'
import type { SpoolIo } from './spool-io.js'

/**
 * At most one commit-point write per this long (200 ms). A stale commit point costs only duplicates
 * after a crash (records sent again), never a loss, so it need not be an fsynced rename per forwarder
 * batch: the head moves in memory and the file follows in the background.
 */
export const COMMIT_POINT_INTERVAL_MS = 200

/** A record the forwarder read and the core has not confirmed yet. */
export interface InflightRecord {
  seq: number
  /** Where the record ends: the head once it is confirmed. */
  end: Position
  /** Log bytes the reader moved over to reach `end` (the frame, and garbage skipped before it). */
  consumed: number
  receivedAt: number
}

/** What a confirmation took out of the spool. */
export interface Confirmed {
  records: number
  bytes: number
  last: InflightRecord
}

export interface HeadLedgerOptions {
  dir: string
  io: SpoolIo
  /** fsync the commit file (every policy but `never`). */
  sync: boolean
  intervalMs: number
  /** The spool's segments, oldest first (shared with the writer, which appends to it). */
  segments: SegmentInfo[]
  head: Position
  headSeq: number
  /** Settles once the drop listener recorded every drop so far. */
  dropsRecorded(): Promise<void>
  /** A failed commit-file write or segment deletion: not fatal, the spool logs it. */
  onIoError(err: unknown, message: string): void
  /** Segments were deleted: disk space may be back. */
  onSegmentsDeleted(): void
}

export class HeadLedger {
  /** Start of the first record still in the spool: a segment's first seq and a byte offset in it. */
  private position: Position
  /** The seq of the last record that left the spool; 0 when none has yet. */
  private seq: number
  /** Bumped whenever the head moves; the commit file has caught up when `persistedGen` equals it. */
  private gen = 0
  /** The `gen` the durable commit file holds. */
  private persistedGen = 0
  /** The commit-file write under way, if one is. */
  private persisting: Promise<void> | undefined
  /** The next commit-file write, when one is scheduled. */
  private timer: NodeJS.Timeout | undefined
  /** When the last scheduled commit-file write started (ms since the epoch). */
  private lastPersistAt = 0
  /** Read and not yet confirmed, in read order; the live ones start at `inflightStart`. */
  private inflight: InflightRecord[] = []
  private inflightStart = 0
  private closed = false

  constructor(private readonly o: HeadLedgerOptions) {
    this.position = { ...o.head }
    this.seq = o.headSeq
  }

  get head(): Position {
    return { ...this.position }
  }

  get headSeq(): number {
    return this.seq
  }

  /** Changes whenever the head moves (a reader positioned at the head is stale once it changed). */
  get generation(): number {
    return this.gen
  }

  /** The receivedAt of the oldest record in flight, if any. */
  get oldestInflightReceivedAt(): number | undefined {
    return this.inflight[this.inflightStart]?.receivedAt
  }

  /** The forwarder read this record. */
  track(record: InflightRecord): void {
    this.inflight.push(record)
  }

  /** The core confirmed every record up to `seq`: what left the spool, or undefined if none did. */
  confirm(seq: number): Confirmed | undefined {
    let records = 0
    let bytes = 0
    let last: InflightRecord | undefined
    while (this.inflightStart < this.inflight.length && this.inflight[this.inflightStart]!.seq <= seq) {
      last = this.inflight[this.inflightStart]!
      this.forgetOldestInflight()
      bytes += last.consumed
      records++
    }
    if (last === undefined) return undefined
    this.moveTo(last.end, last.seq)
    return { records, bytes, last }
  }

  /**
   * Everything up to `seq`, ending at `end`, left the spool (confirmed or dropped). In-flight records
   * it passes are forgotten.
   */
  moveTo(end: Position, seq: number): void {
    this.position = { ...end }
    const i = this.o.segments.findIndex((s) => s.firstSeq === end.segment)
    const seg = this.o.segments[i]
    const next = this.o.segments[i + 1]
    // At the very end of a sealed segment the head is the start of the next one, so that the sealed
    // one counts as wholly consumed and can be deleted.
    if (seg !== undefined && seg.sealed && end.offset >= seg.size && next !== undefined) {
      this.position = { segment: next.firstSeq, offset: SEGMENT_HEADER_BYTES }
    }
    this.seq = seq
    this.gen++
    while (this.inflightStart < this.inflight.length && this.inflight[this.inflightStart]!.seq <= seq) {
      this.forgetOldestInflight()
    }
    this.compactInflight()
  }

  /**
   * The oldest in-flight record left: its slot lets go of it at once. Kept until a compaction, a
   * thousand confirmed records outlived young-generation GCs and were promoted to the old one.
   */
  private forgetOldestInflight(): void {
    this.inflight[this.inflightStart] = undefined as unknown as InflightRecord
    this.inflightStart++
  }

  private compactInflight(): void {
    if (this.inflightStart === this.inflight.length) {
      // Every record read was confirmed (one batch in flight at a time: the usual case).
      this.inflight.length = 0
      this.inflightStart = 0
    } else if (this.inflightStart > 1024 && this.inflightStart * 2 > this.inflight.length) {
      this.inflight = this.inflight.slice(this.inflightStart)
      this.inflightStart = 0
    }
  }

  /** Write the commit file soon: at most once per `intervalMs`, coalescing the moves in between. */
  schedulePersist(): void {
    if (this.timer !== undefined || this.closed) return
    const wait = Math.max(0, this.lastPersistAt + this.o.intervalMs - Date.now())
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.lastPersistAt = Date.now()
      void this.persist()
    }, wait)
    // close() writes the last commit point; a timer alone need not keep the process up.
    this.timer.unref()
  }

  /** Write the commit file for the current head (coalesced), then delete segments it made obsolete. */
  async persist(): Promise<void> {
    const target = this.gen
    while (this.persistedGen < target) {
      if (this.persisting !== undefined) {
        await this.persisting
        continue
      }
      const gen = this.gen
      const point: CommitPoint = {
        segment: this.position.segment,
        offset: this.position.offset,
        headSeq: this.seq,
      }
      // Drops are reported before the head moves over them: once the listener (the loss ledger)
      // recorded them, a crash cannot leave the head past a drop it does not know of.
      this.persisting = this.o
        .dropsRecorded()
        .then(() => writeCommitPoint(this.o.io, this.o.dir, point, this.o.sync))
        .then(
          async () => {
            this.persistedGen = gen
            await this.deleteObsoleteSegments(point.segment)
          },
          (err: unknown) => {
            // Not fatal: the durable commit point lags (a crash would re-send records: duplicates).
            this.o.onIoError(err, 'spool could not write its commit file; will retry on the next commit')
            this.persistedGen = Math.max(this.persistedGen, target)
          },
        )
        .finally(() => {
          this.persisting = undefined
        })
      await this.persisting
    }
  }

  /** Write the last commit point; no more are scheduled. */
  async close(): Promise<void> {
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    await this.persist().catch(() => undefined)
  }

  /** Delete the sealed segments wholly before `headSegment` (never the active one). */
  private async deleteObsoleteSegments(headSegment: number): Promise<void> {
    const segments = this.o.segments
    let deleted = 0
    while (segments.length > 1 && segments[0]!.firstSeq < headSegment && segments[0]!.sealed) {
      const seg = segments.shift()!
      await this.o.io.unlink(segmentPath(this.o.dir, seg.firstSeq)).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          this.o.onIoError(err, 'spool could not delete a segment')
      })
      deleted++
    }
    if (deleted > 0) this.o.onSegmentsDeleted()
  }
}
