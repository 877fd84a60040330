/**
 * The writer: appends frames to the active segment with group commit.
 *
 * Invariants:
 * - Frames are written in the order they were enqueued (seq order), one write call per batch (or per
 *   segment, when a batch crosses a rollover). A frame becomes readable (segment `size` grows and
 *   `onWritten` fires) only after the write that holds it returned.
 * - `always`: a durable enqueue resolves only after an fsync that started after its frame was
 *   written. Group commit: while an fsync runs, new frames are written (not synced), and the next
 *   fsync, started as soon as the previous one returns, covers them all, so N concurrent appends cost
 *   far fewer than N fsyncs and a frame waits for at most the rest of one fsync and one of its own.
 * - `interval`: resolves once the write returned (the data is in the OS); a timer fsyncs every
 *   fsyncIntervalMs. `never`: resolves after the write, never fsyncs (the OS flushes when it likes).
 * - A segment is sealed (fsynced unless `never`) before the next one is created; a new segment's
 *   directory entry is fsynced before any frame in it is reported durable.
 * - Writes are positional at the segment's known end. After a failed write the file is truncated back
 *   to that end, so half-written frames never sit between good ones; a retry writes the same bytes
 *   at the same place.
 */
import type { FileHandle } from 'node:fs/promises'
import type { Logger } from '../observability/logger.js'
import type { SpooledRecord } from '../record.js'
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES, segmentPath, type SegmentInfo } from './segment.js'
import type { FsyncPolicy, SpoolObserver } from './spool.js'
import type { SpoolIo } from './spool-io.js'

export interface WriteEntry {
  frame: Buffer
  seq: number
  /** The record the frame holds, handed on once written (the spool's recent tail). */
  record?: SpooledRecord
  /** Set for durable appends; the spool may clear it after rejecting the waiter. */
  waiter?: { resolve(): void; reject(err: unknown): void }
}

/** What the spool wants done with queued entries after a failed write. */
export type WriteFailureAction = 'retry' | 'discard'

export interface SegmentWriterOptions {
  dir: string
  segmentBytes: number
  fsync: FsyncPolicy
  fsyncIntervalMs: number
  io: SpoolIo
  logger: Logger
  /** The spool's list of segments, oldest first; the last one is active and open in `activeHandle`. */
  segments: SegmentInfo[]
  activeHandle: FileHandle
  /**
   * New frames are readable: `written` (possibly none, after a rollover) now stand in segment
   * `segment` from byte `offset` on, one after the other.
   */
  onWritten(written: readonly WriteEntry[], segment: number, offset: number): void
  /** A write failed; the spool applies its whenFull policy to `queued` (not yet written) entries. */
  onWriteFailure(err: unknown, queued: WriteEntry[]): WriteFailureAction
  /** A write succeeded after failures: space is back. */
  onRecovered(): void
  /** Delay before retrying after a failure when nothing else (a commit freeing space) kicks first. */
  retryMs: number
  observer?: SpoolObserver
}

export class SegmentWriter {
  bytesWritten = 0
  fsyncCount = 0
  lastFsyncMs = 0
  /** True from a failed write until the next successful one. */
  failing = false

  private queue: WriteEntry[] = []
  private unsynced: WriteEntry[] = []
  private running = false
  private dirty = false
  private closed = false
  private retryTimer: NodeJS.Timeout | undefined
  private readonly intervalTimer: NodeJS.Timeout | undefined
  private handle: FileHandle
  private idle: Promise<void> = Promise.resolve()
  /** The fsync running beside the writes (policy `always`); it settles the frames it covers. */
  private syncing: Promise<void> | undefined
  /** What that fsync failed with, for the loop to handle as a write failure. */
  private syncError: unknown
  /** A write of the frames enqueued in this turn of the event loop is scheduled (enqueue). */
  private writeScheduled = false
  /** Wakes the loop while it waits for an fsync: there are frames to write beside it. */
  private wake: (() => void) | undefined

  constructor(private readonly o: SegmentWriterOptions) {
    this.handle = o.activeHandle
    if (o.fsync === 'interval') {
      this.intervalTimer = setInterval(() => void this.intervalSync(), o.fsyncIntervalMs)
      this.intervalTimer.unref()
    }
  }

  get queuedEntries(): number {
    return this.queue.length
  }

  /** Queue a frame; the promise (durable entries only) settles per the fsync policy. */
  enqueue(entry: WriteEntry): void {
    this.queue.push(entry)
    if (this.failing || this.writeScheduled) return
    // Written once the event loop has taken in what arrived with this frame (setImmediate runs after
    // the sockets' reads of this turn): a burst of publishes becomes one write and one fsync. Writing
    // at once wrote the burst's first frame alone, and its fsync covered that frame only, so the rest
    // of the burst waited for a second fsync.
    this.writeScheduled = true
    setImmediate(() => {
      this.writeScheduled = false
      if (this.failing) return
      this.start()
      this.wake?.()
    })
  }

  /** Retry now (a commit deleted segments, so space may be back). */
  kick(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.start()
  }

  private start(): void {
    if (this.running || this.closed) return
    this.running = true
    this.idle = this.run()
  }

  private async run(): Promise<void> {
    // `running` is cleared in the same synchronous step as the last queue check, so an enqueue that
    // follows (even from a waiter resolved here) always finds either a running loop or starts one.
    try {
      while (this.queue.length > 0 || this.unsynced.length > 0 || this.syncing !== undefined) {
        try {
          // Frames are written while an fsync runs; the next fsync covers them (invariant: always).
          if (this.queue.length > 0) await this.writeQueued()
          this.throwIfSyncFailed()
          if (this.syncing === undefined) {
            if (this.unsynced.length > 0) this.syncing = this.syncInBackground()
          } else if (this.queue.length === 0) {
            // Wait for the fsync, or for a new frame to write beside it (enqueue wakes the loop).
            await Promise.race([this.syncing, new Promise<void>((res) => (this.wake = res))])
            this.wake = undefined
            this.throwIfSyncFailed()
          }
        } catch (err) {
          await this.syncing // an fsync under way settles the frames it covers first
          this.syncError = undefined
          this.handleFailure(err)
          return
        }
        if (this.failing) {
          this.failing = false
          this.o.onRecovered()
        }
      }
      // Retried with nothing left to write (what failed was discarded or refused): let the next
      // append find out whether the disk works again.
      if (this.failing) {
        this.failing = false
        this.o.onRecovered()
      }
    } finally {
      this.running = false
    }
    // onRecovered may have admitted appends while this loop was finishing.
    if (!this.failing && this.queue.length > 0) this.start()
  }

  /**
   * fsync the active segment for the frames written so far, while the loop goes on writing; settle
   * those frames when it returns. Only frames whose write returned before the fsync began count as
   * covered by it.
   */
  private async syncInBackground(): Promise<void> {
    const covered = this.unsynced
    this.unsynced = []
    try {
      await this.timedSync(this.handle)
      for (const e of covered) e.waiter?.resolve()
    } catch (err) {
      // As in syncActive; and frames written while it failed may share its lost pages: no PUBACK
      // for them either (the device resends; the frame stays, so the core may get it twice).
      for (const e of covered) e.waiter?.reject(err)
      for (const e of this.unsynced.splice(0)) e.waiter?.reject(err)
      this.syncError = err
    } finally {
      this.syncing = undefined
    }
  }

  private throwIfSyncFailed(): void {
    if (this.syncError === undefined) return
    const err = this.syncError
    this.syncError = undefined
    throw err
  }

  /**
   * Write what was queued when this call began, rolling over segments as they fill; one write per
   * segment touched. Frames queued while it writes wait for the next cycle: writing them too would
   * hold back the fsync the frames already written are waiting for (under load each write was
   * followed by more, and an fsync waited for several writes).
   */
  private async writeQueued(): Promise<void> {
    let left = this.queue.length
    while (left > 0) {
      const active = this.active()
      // Fill the active segment; a frame bigger than a whole segment gets a segment to itself.
      let n = 0
      let bytes = 0
      while (n < left) {
        const len = this.queue[n]!.frame.length
        const empty = active.size + bytes === SEGMENT_HEADER_BYTES
        if (!empty && active.size + bytes + len > this.o.segmentBytes) break
        bytes += len
        n++
      }
      if (n === 0) {
        await this.rollOver(this.queue[0]!.seq)
        continue
      }
      const group = this.queue.slice(0, n)
      const data =
        n === 1
          ? group[0]!.frame
          : Buffer.concat(
              group.map((e) => e.frame),
              bytes,
            )
      try {
        await this.o.io.write(this.handle, data, active.size)
      } catch (err) {
        await this.o.io.truncate(this.handle, active.size).catch(() => undefined)
        throw err
      }
      this.queue.splice(0, n)
      left -= n
      this.o.observer?.groupWritten(n)
      const offset = active.size
      active.size += bytes
      this.bytesWritten += bytes
      this.dirty = true
      if (this.o.fsync === 'always') {
        for (const e of group) if (e.waiter !== undefined) this.unsynced.push(e)
      } else {
        for (const e of group) e.waiter?.resolve()
      }
      this.o.onWritten(group, active.firstSeq, offset)
    }
  }

  /** Seal the active segment and start a new one whose first frame is `firstSeq`. */
  private async rollOver(firstSeq: number): Promise<void> {
    if (this.o.fsync !== 'never') {
      await this.syncing
      this.throwIfSyncFailed()
      await this.syncActive()
    }
    const path = segmentPath(this.o.dir, firstSeq)
    const fh = await this.o.io.open(path, 'w+')
    try {
      await this.o.io.write(fh, encodeSegmentHeader(firstSeq), 0)
      if (this.o.fsync !== 'never') {
        await this.timedSync(fh)
        await this.o.io.syncDir(this.o.dir)
      }
    } catch (err) {
      await this.o.io.close(fh).catch(() => undefined)
      throw err
    }
    const old = this.handle
    this.active().sealed = true
    this.o.segments.push({ firstSeq, size: SEGMENT_HEADER_BYTES, sealed: false })
    this.handle = fh
    this.dirty = false
    await this.o.io.close(old)
    this.o.onWritten([], firstSeq, SEGMENT_HEADER_BYTES)
  }

  private async syncActive(): Promise<void> {
    const covered = this.unsynced
    this.unsynced = []
    try {
      await this.timedSync(this.handle)
    } catch (err) {
      // The OS may have dropped the pages it failed to flush ("fsyncgate"), so these appends were
      // never durable: tell those devices no (no PUBACK). Their bytes stay and may still be delivered.
      for (const e of covered) e.waiter?.reject(err)
      throw err
    }
    this.dirty = false
    for (const e of covered) e.waiter?.resolve()
  }

  private async timedSync(fh: FileHandle): Promise<void> {
    const t0 = performance.now()
    await this.o.io.fsync(fh)
    this.lastFsyncMs = performance.now() - t0
    this.fsyncCount++
    this.o.observer?.fsynced(this.lastFsyncMs / 1000)
  }

  private async intervalSync(): Promise<void> {
    if (!this.dirty || this.closed) return
    this.dirty = false
    try {
      await this.timedSync(this.handle)
    } catch (err) {
      this.dirty = true
      this.o.logger.error({ err }, 'spool interval fsync failed')
    }
  }

  private handleFailure(err: unknown): void {
    this.failing = true
    const action = this.o.onWriteFailure(err, this.queue)
    if (action === 'discard') this.queue = []
    if (this.closed) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      this.start()
    }, this.o.retryMs)
    // Not unref'd: records are waiting to be written, which is reason enough to keep the process up.
  }

  private active(): SegmentInfo {
    return this.o.segments[this.o.segments.length - 1]!
  }

  /**
   * Write what is queued (best effort), fsync unless `never`, close the active segment. Entries that
   * cannot be written are rejected with `err`; returns how many were left unwritten.
   */
  async close(err: unknown): Promise<number> {
    if (this.closed) return 0
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    if (this.intervalTimer !== undefined) clearInterval(this.intervalTimer)
    await this.idle
    if (!this.failing && (this.queue.length > 0 || this.unsynced.length > 0)) {
      this.start()
      await this.idle
    }
    this.closed = true
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer)
    const lost = this.queue.length
    for (const e of this.queue.splice(0)) e.waiter?.reject(err)
    for (const e of this.unsynced.splice(0)) e.waiter?.reject(err)
    if (this.o.fsync !== 'never' && this.dirty) await this.timedSync(this.handle).catch(() => undefined)
    await this.o.io.close(this.handle)
    return lost
  }
}
