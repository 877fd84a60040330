/**
 * DiskSpool: the durable spool. A segmented, CRC-framed, append-only FIFO log on local disk with
 * group commit and an atomic commit point. It is what lets edgebridge PUBACK a device before the
 * core has the message: once `append(..., { waitDurable: true })` resolves, the record survives a
 * crash or a power cut (with `fsync: always`) until the core confirms it.
 *
 * Why hand-written: no maintained Node library offers a group-committed, CRC-framed, segmented FIFO
 * with an atomic commit point. Embedded key-value stores (LevelDB/RocksDB bindings, LMDB) are native
 * modules that are awkward on ARM edge boxes and do much more than a FIFO needs; queue libraries for
 * Node are in-memory or Redis-backed. Vector's disk buffer (disk_v2) and EMQX replayq are the models.
 *
 * ## On-disk format (`<dataDir>/spool/`)
 *
 *   00000000000000000001.seg   segments, named by the seq of their first frame (segment.ts)
 *   00000000000000004711.seg   the newest is the active segment; older ones are sealed
 *   commit                     the commit point, replaced atomically (commit-point.ts)
 *
 * A segment is a 16-byte header then frames. A frame (frame-codec.ts) is magic, version, kind,
 * length, CRC32 (zlib.crc32 over header and body), then the record body: seq, receivedAt, qos,
 * retain, codec, the string fields and the payload. Every on-disk struct carries a version byte;
 * "do not reorder fields" holds for all of them.
 *
 * ## Invariants
 *
 * 1. seq is assigned when an append is admitted (there is room), in admission order; frames are
 *    written in seq order (segment-writer.ts), so file order is FIFO order. Within a segment seqs
 *    only increase; a segment's name is its first seq.
 * 2. `waitDurable` appends resolve per `fsync`: `always` after an fsync covering the frame (group
 *    commit: one fsync covers every frame written before it started), `interval` after the write
 *    reached the OS (fsync every fsyncIntervalMs), `never` after the write.
 * 3. A record is readable once written (before it is durable): the reader never reads past what the
 *    writer finished. Records just written are handed to the forwarder from memory (recent-tail.ts,
 *    bounded); the segment files are read only for a backlog larger than that and after a restart,
 *    and every record read from a file passed its CRC check. So the forwarder may send a record
 *    before its fsync completed: after a power cut the core may hold a record the device was never
 *    acknowledged for, which the device then sends again (a duplicate, never a loss). Its seq may be
 *    given again to that or another record after the restart (the lost tail's seqs are unknown to
 *    recovery), so a core that de-duplicated by seq alone could drop the new record within its
 *    duplicate window; the JetStream msgID carries the receive time too for that reason
 *    (record.ts, deduplicationId). A kill -9 cannot cause this (the page cache survives).
 * 4. The head and the commit file (head-ledger.ts): the commit file is durable before segments it
 *    makes obsolete are deleted; fully consumed segments (wholly before the commit point) are
 *    deleted, the active segment never is. The file lags the in-memory head by up to
 *    COMMIT_POINT_INTERVAL_MS: after a crash the records committed in that window are sent again
 *    (duplicates), never lost.
 * 5. Bounded (admission.ts): the bytes of uncommitted frames (depthBytes) stay within maxBytes (one
 *    record more than maxBytes is admitted into an empty spool). Files on disk exceed that by at
 *    most one partly-committed segment. When full, `whenFull` applies (below) and every drop is
 *    counted.
 *
 * ## Full, and a full disk (admission.ts, write-failure-policy.ts)
 *
 * `block` queues appends (FIFO) until a commit frees room; `drop-newest` rejects with
 * SpoolFullError; `drop-oldest` moves the commit point forward over the oldest records (counted as
 * drops) until the new one fits. ENOSPC/EDQUOT from the filesystem is "full", never a crash: the
 * writer truncates the half-written frames, new appends are refused or queued as the policy says,
 * and the write is retried when a commit deletes segments or after diskFullRetryMs. Under
 * `drop-newest` the appends caught in the failed write are rejected and their records discarded
 * (counted): their seqs are never reused, so seq has a gap there. Under `drop-oldest` whole oldest
 * segments are dropped to free real disk space. Other write errors (EIO) reject the waiting
 * appends with SPOOL_IO (no PUBACK) and are retried.
 *
 * ## Recovery (recovery.ts)
 *
 * Open never fails on damaged content. Only the active segment is scanned (a torn tail is
 * truncated); sealed segments are trusted by name and size and CRC-checked as they are read. A
 * corrupt frame is skipped by RESYNC: scan forward for the next offset where a whole frame verifies,
 * within the same segment, else continue with the next segment (segment-reader.ts); the records
 * lost are counted from the seq gap (`corruptFramesSkipped`, `drops.corrupt`). A missing or damaged
 * commit file replays from the oldest segment: duplicates, never loss. seq continues after the
 * highest seq found, the committed seq and the active segment's name.
 *
 * ## Proof against power loss
 *
 * test/unit/spool-power-loss.test.ts cuts the power at every IO call (spool-io.ts is the seam) of a
 * workload with group commits, rollovers, commit-point writes and segment deletion, keeping only what
 * was fsynced: with `always` every acknowledged record comes back and nothing corrupt does; the same
 * sweep fails when fsync or the directory fsync is skipped. `interval` loses the acknowledged records
 * of the last interval; `never` loses whatever the OS had not flushed.
 *
 * Stats after a restart: depthRecords is estimated from seqs (lastSeq - headSeq); it can overcount
 * by records lost to seq gaps until they are read past.
 */
import { EdgebridgeError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import { RateLimitedLog } from '../observability/rate-limited-log.js'
import type { RecordInput, SpooledRecord } from '../record.js'
import { Admission, type PendingAppend } from './admission.js'
import { DropReporter } from './drop-reporter.js'
import { encodeFrame, frameSize } from './frame-codec.js'
import { COMMIT_POINT_INTERVAL_MS, HeadLedger } from './head-ledger.js'
import { DEFAULT_TAIL_BYTES, RecentTail } from './recent-tail.js'
import { recover, type RecoveredState } from './recovery.js'
import { SegmentReader, type CorruptDetail, type Position, type ReadItem } from './segment-reader.js'
import { SegmentWriter, type WriteEntry } from './segment-writer.js'
import { spoolIo, type SpoolIo } from './spool-io.js'
import { SEGMENT_HEADER_BYTES, type SegmentInfo } from './segment.js'
import {
  spoolStats,
  type AppendOptions,
  type SpoolOptions,
  type FsyncPolicy,
  type ReadLimits,
  type Spool,
  type SpoolStats,
  type RecoveryFigures,
  type SpoolObserver,
  type SpoolTotals,
  type WhenFull,
} from './spool.js'
import { closedError, DataSignal } from './waiters.js'
import { applyWriteFailurePolicy } from './write-failure-policy.js'

export { COMMIT_POINT_INTERVAL_MS } from './head-ledger.js'

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024 // 64 MiB
export const DEFAULT_DISK_SPOOL_MAX_BYTES = 1024 * 1024 * 1024 // 1 GiB
export const DEFAULT_FSYNC_INTERVAL_MS = 100 // 100 ms
export const DEFAULT_DISK_FULL_RETRY_MS = 1000 // 1 second
export const IO_ERROR_LOG_INTERVAL_MS = 10_000 // 10 seconds

export interface DiskSpoolOptions extends SpoolOptions {
  /** The spool directory (created if missing): `<dataDir>/spool`. */
  dir: string
  segmentBytes?: number
  fsync?: FsyncPolicy
  fsyncIntervalMs?: number
  /** Replace filesystem calls (tests inject ENOSPC, count fsyncs, simulate a power cut). */
  io?: Partial<SpoolIo>
  /** At most one commit-point write per this long; default COMMIT_POINT_INTERVAL_MS (tests: 0). */
  commitIntervalMs?: number
  /** Retry a write that failed for lack of space after this long, if no commit frees space first. */
  diskFullRetryMs?: number
  readChunkBytes?: number
  /** Frame bytes of just-written records kept in memory for the forwarder; default DEFAULT_TAIL_BYTES. */
  tailBytes?: number
  /** At most one IO error line per this long (default IO_ERROR_LOG_INTERVAL_MS); the rest are summarized. */
  ioErrorLogIntervalMs?: number
  /** Told of fsyncs and group commits (the metrics). */
  observer?: SpoolObserver
}

export class DiskSpool implements Spool {
  /** The spool directory. */
  private readonly dir: string
  private readonly whenFull: WhenFull
  private readonly logger: Logger
  /** Read chunk size for segment readers (undefined: the reader's default). */
  private readonly readChunkBytes: number | undefined
  /** The spool's segments, oldest first; the last is active. Shared with the writer and the readers. */
  private readonly segments: SegmentInfo[]
  /** Appends frames to the active segment (group commit). */
  private readonly writer: SegmentWriter
  /** The forwarder's reader of the files (used when the recent tail cannot serve). */
  private readonly reader: SegmentReader
  /** Records just written, for the forwarder. */
  private readonly tail: RecentTail
  /** The head, the records in flight and the commit file. */
  private readonly ledger: HeadLedger
  /** Room, depth and the whenFull policy for appends. */
  private readonly admission: Admission
  private readonly drops: DropReporter
  /** IO errors repeat while a disk fails: one line at once, then a summary per interval. */
  private readonly ioErrorLog: RateLimitedLog
  /** Wakes the reader when records were written. */
  private readonly dataSignal = new DataSignal()
  /** What open() found on disk (the metrics' recovery figures). */
  private readonly recovery: RecoveryFigures

  /** The drop-oldest reader at the head, and the head generation it was positioned for. */
  private headReader: SegmentReader | undefined
  private headReaderGen = -1
  /** A read of the oldest unread record's receivedAt from the file is under way (one at a time). */
  private peeking = false
  /** The seq of the newest admitted record (seqs are assigned at admission). */
  private lastSeq: number
  /** The seq of the last record handed to the forwarder (or passed by a drop). */
  private lastReadSeq: number
  /** Bumped when a drop moves the read cursor: a file read under way is stale. */
  private readEpoch = 0
  /** Where the file reader must go before its next read (the tail served, or a drop moved the cursor). */
  private pendingSeek: { pos: Position; expectedSeq: number } | undefined
  /** Bumped on every write: a file read that found nothing retries if a write came meanwhile. */
  private writtenVersion = 0
  /** committedSeq is the highest seq the core confirmed (the head may be further on, after drops). */
  private readonly totals: SpoolTotals
  private corruptFramesSkipped = 0
  private closed = false

  /** Recover the spool in `options.dir` (creating it if needed) and open it for appends and reads. */
  static async open(options: DiskSpoolOptions): Promise<DiskSpool> {
    const t0 = performance.now()
    const io = spoolIo(options.io)
    const fsync = options.fsync ?? 'always'
    const recovered = await recover(io, options.dir, fsync !== 'never', options.logger)
    const spool = new DiskSpool(options, io, recovered, {
      records: recovered.depthRecords,
      bytes: recovered.depthBytes,
      truncatedBytes: recovered.truncatedBytes,
      durationSeconds: (performance.now() - t0) / 1000,
    })
    options.logger.info(
      {
        dir: options.dir,
        segments: recovered.segments.length,
        depthRecords: recovered.depthRecords,
        depthBytes: recovered.depthBytes,
        headSeq: recovered.headSeq,
        lastSeq: recovered.lastSeq,
        truncatedBytes: recovered.truncatedBytes,
        commitFile: recovered.commitFile,
        deletedSegments: recovered.deletedSegments,
        durationMs: Math.round(performance.now() - t0),
      },
      'spool recovered',
    )
    return spool
  }

  private constructor(options: DiskSpoolOptions, io: SpoolIo, r: RecoveredState, recovery: RecoveryFigures) {
    this.recovery = recovery
    this.dir = options.dir
    this.whenFull = options.whenFull ?? 'block'
    this.logger = options.logger
    this.readChunkBytes = options.readChunkBytes
    this.segments = r.segments
    this.lastSeq = r.lastSeq
    this.lastReadSeq = r.headSeq
    this.totals = { appendedTotal: 0, committedTotal: 0, committedSeq: r.headSeq }
    const fsync = options.fsync ?? 'always'
    this.drops = new DropReporter(this.logger, options.dropLogIntervalMs, options.onDrop)
    this.ioErrorLog = new RateLimitedLog(
      this.logger,
      options.ioErrorLogIntervalMs ?? IO_ERROR_LOG_INTERVAL_MS,
    )
    this.admission = new Admission({
      maxBytes: options.maxBytes ?? DEFAULT_DISK_SPOOL_MAX_BYTES,
      whenFull: this.whenFull,
      drops: this.drops,
      diskFailing: () => this.writer.failing,
      admit: (append) => this.admit(append),
      dropOldest: (needBytes) => this.dropOldest(needBytes),
      dropOldestSegment: () => this.dropOldestSegment(),
    })
    this.admission.records = r.depthRecords
    this.admission.bytes = r.depthBytes
    this.admission.oldestReceivedAt = r.oldestReceivedAt
    this.ledger = new HeadLedger({
      dir: this.dir,
      io,
      sync: fsync !== 'never',
      intervalMs: options.commitIntervalMs ?? COMMIT_POINT_INTERVAL_MS,
      segments: this.segments,
      head: r.head,
      headSeq: r.headSeq,
      dropsRecorded: () => this.drops.whenRecorded(),
      onIoError: (err, message) => this.logIoError(err, message),
      onSegmentsDeleted: () => {
        if (this.writer.failing) this.writer.kick()
      },
    })
    this.tail = new RecentTail(options.tailBytes ?? DEFAULT_TAIL_BYTES, r.lastSeq)
    if (r.corruptTail) {
      this.countCorrupt(1, {
        segment: this.segments[this.segments.length - 1]!.firstSeq,
        reason: 'truncated tail',
      })
    }
    this.writer = new SegmentWriter({
      dir: this.dir,
      segmentBytes: options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
      fsync,
      fsyncIntervalMs: options.fsyncIntervalMs ?? DEFAULT_FSYNC_INTERVAL_MS,
      io,
      logger: this.logger,
      segments: this.segments,
      activeHandle: r.activeHandle,
      retryMs: options.diskFullRetryMs ?? DEFAULT_DISK_FULL_RETRY_MS,
      onWritten: (written, segment, offset) => this.onWritten(written, segment, offset),
      onWriteFailure: (err, queued) =>
        applyWriteFailurePolicy(err, queued, {
          whenFull: this.whenFull,
          admission: this.admission,
          drops: this.drops,
          logIoError: (e, message) => this.logIoError(e, message),
        }),
      onRecovered: () => {
        this.logger.info('spool writes succeed again')
        this.admission.wake()
      },
      observer: options.observer,
    })
    this.reader = this.newReader(this.ledger.head, r.headSeq + 1, (lost, detail) =>
      this.countCorrupt(lost, detail),
    )
  }

  async append(record: RecordInput, options: AppendOptions): Promise<number> {
    if (this.closed) throw closedError()
    const pending: PendingAppend = { record, size: frameSize(record), seq: 0, durable: options.waitDurable }
    // Admitted at once in the common case, without the promise of a wait for room.
    if (!this.admission.tryEnter(pending)) await this.admission.enter(pending, options.signal)
    if (pending.done !== undefined) await pending.done
    return pending.seq
  }

  async read(limits: ReadLimits, signal?: AbortSignal): Promise<SpooledRecord[]> {
    const maxRecords = Math.max(1, limits.maxRecords)
    try {
      while (!this.closed && !signal?.aborted) {
        const recent = this.tail.take(this.lastReadSeq, maxRecords, limits.maxBytes)
        if (recent !== undefined && recent.length > 0) {
          // The file reader stays where it was; it resumes after these if it is needed again.
          const last = recent[recent.length - 1]!
          this.pendingSeek = { pos: last.end, expectedSeq: last.record.seq + 1 }
          return this.deliver(recent)
        }
        if (recent !== undefined) {
          // Caught up: everything written was handed out. Wait for the next write.
          if (!(await this.dataSignal.wait(signal))) break
          continue
        }
        if (this.pendingSeek !== undefined) {
          this.reader.seek(this.pendingSeek.pos, this.pendingSeek.expectedSeq)
          this.pendingSeek = undefined
        }
        const epoch = this.readEpoch
        const version = this.writtenVersion
        const items = await this.reader.next(maxRecords, limits.maxBytes)
        if (this.closed) break
        if (epoch !== this.readEpoch) continue // dropped under us: read again from the new head
        if (items.length > 0) return this.deliver(items)
        if (version !== this.writtenVersion) continue
        if (!(await this.dataSignal.wait(signal))) break
      }
    } catch (err) {
      if (this.closed) return []
      throw new EdgebridgeError('SPOOL_IO', `spool read failed: ${(err as Error).message}`, {
        cause: err,
        retriable: true,
      })
    }
    return []
  }

  async commit(seq: number): Promise<number> {
    if (this.closed) return 0
    if (seq > this.totals.committedSeq) this.totals.committedSeq = Math.min(seq, this.lastSeq)
    if (seq <= this.ledger.headSeq) return 0
    const confirmed = this.ledger.confirm(seq)
    if (confirmed === undefined) return 0
    this.totals.committedTotal += confirmed.records
    this.afterHeadMoved(confirmed.records, confirmed.bytes)
    this.ledger.schedulePersist()
    return confirmed.records
  }

  stats(): SpoolStats {
    return {
      ...spoolStats(this.admission, this.totals, this.drops.counts),
      corruptFramesSkipped: this.corruptFramesSkipped,
      bytesWritten: this.writer.bytesWritten,
      lastFsyncMs: this.writer.lastFsyncMs,
      fsyncCount: this.writer.fsyncCount,
      recovery: this.recovery,
      writeFailing: this.writer.failing,
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.admission.close(closedError())
    this.dataSignal.close()
    const unwritten = await this.writer.close(closedError())
    if (unwritten > 0) {
      this.logger.error({ unwritten }, 'spool closed with records it could not write (disk full or failing)')
    }
    await this.reader.close()
    await this.headReader?.close()
    await this.ledger.close()
    this.drops.flush()
    this.ioErrorLog.flush()
  }

  // --- appends ---------------------------------------------------------------------------------

  /** Admission let the record in: give it its seq and queue its frame. */
  private admit(p: PendingAppend): void {
    p.seq = ++this.lastSeq
    const frame = encodeFrame(p.record, p.seq)
    const entry: WriteEntry = { frame, seq: p.seq, record: spooled(p.record, p.seq) }
    if (p.durable) {
      p.done = new Promise<void>((resolve, reject) => {
        entry.waiter = { resolve, reject }
      })
    }
    this.admission.added(frame.length, p.record.receivedAt)
    this.totals.appendedTotal++
    this.writer.enqueue(entry)
  }

  private onWritten(written: readonly WriteEntry[], segment: number, offset: number): void {
    let end = offset
    for (const e of written) {
      end += e.frame.length
      const frameBytes = e.frame.length
      this.tail.push({ record: e.record!, end: { segment, offset: end }, frameBytes, consumed: frameBytes })
    }
    this.writtenVersion++
    this.findOldestUnread()
    this.dataSignal.notify()
    // The dropper reads the oldest records from disk: when it ran before they were written (a burst
    // of appends admitted at once), nothing else would wake it, and drop-oldest appends would wait
    // forever.
    if (this.whenFull === 'drop-oldest') this.admission.wake()
  }

  // --- reading ---------------------------------------------------------------------------------

  /** Hand `items` to the forwarder: they are in flight until the core confirms them. */
  private deliver(items: readonly ReadItem[]): SpooledRecord[] {
    const out: SpooledRecord[] = new Array(items.length)
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!
      out[i] = it.record
      this.ledger.track({
        seq: it.record.seq,
        end: it.end,
        consumed: it.consumed,
        receivedAt: it.record.receivedAt,
      })
    }
    this.lastReadSeq = out[out.length - 1]!.seq
    if (this.admission.oldestReceivedAt === undefined) this.admission.oldestReceivedAt = out[0]!.receivedAt
    return out
  }

  private newReader(
    pos: Position,
    expectedSeq: number,
    onCorrupt: (lost: number, detail: CorruptDetail) => void,
    chunkBytes = this.readChunkBytes,
  ): SegmentReader {
    return new SegmentReader(
      { dir: this.dir, segments: this.segments, chunkBytes, onCorrupt },
      pos,
      expectedSeq,
    )
  }

  private countCorrupt(lost: number, detail: Partial<CorruptDetail>): void {
    this.corruptFramesSkipped += lost
    this.admission.removed(lost, 0)
    this.drops.drop('corrupt', lost, { ...detail })
  }

  // --- drops at the head -------------------------------------------------------------------------

  /** drop-oldest: drop the oldest records, at least `needBytes` of them. */
  private async dropOldest(needBytes: number): Promise<boolean> {
    if (this.headReader === undefined || this.headReaderGen !== this.ledger.generation) {
      await this.headReader?.close()
      this.headReader = this.newReader(this.ledger.head, this.ledger.headSeq + 1, () => undefined)
    }
    const items = await this.headReader.next(10_000, Math.max(1, needBytes))
    if (this.closed || items.length === 0) return false
    const last = items[items.length - 1]!
    let consumed = 0
    for (const it of items) consumed += it.consumed
    this.drops.drop('drop-oldest', items.length, { fromSeq: this.ledger.headSeq + 1, toSeq: last.record.seq })
    this.dropTo(last.end, last.record.seq, items.length, consumed)
    this.headReaderGen = this.ledger.generation
    void this.ledger.persist()
    return true
  }

  /** Disk full under drop-oldest: drop every record up to the start of the next segment. */
  private async dropOldestSegment(): Promise<boolean> {
    const head = this.ledger.head
    const i = this.segments.findIndex((s) => s.firstSeq === head.segment)
    const next = this.segments[i + 1]
    if (i < 0 || next === undefined) return false
    const seg = this.segments[i]!
    const records = Math.max(0, next.firstSeq - 1 - this.ledger.headSeq)
    this.drops.drop('drop-oldest', records, {
      fromSeq: this.ledger.headSeq + 1,
      toSeq: next.firstSeq - 1,
      reason: 'disk full',
    })
    this.dropTo(
      { segment: next.firstSeq, offset: SEGMENT_HEADER_BYTES },
      next.firstSeq - 1,
      records,
      seg.size - head.offset,
    )
    await this.ledger.persist()
    this.writer.kick()
    return true
  }

  /** Dropped records up to `seq` left the spool; records the forwarder had not read are not read. */
  private dropTo(end: Position, seq: number, records: number, bytes: number): void {
    this.ledger.moveTo(end, seq)
    if (this.lastReadSeq < seq) {
      this.lastReadSeq = seq
      this.readEpoch++
      this.pendingSeek = { pos: this.ledger.head, expectedSeq: seq + 1 }
    }
    this.afterHeadMoved(records, bytes)
  }

  /** The head moved over `records` (`bytes` of log): depth, the oldest-age stat, waiting appends. */
  private afterHeadMoved(records: number, bytes: number): void {
    this.admission.removed(records, bytes, this.ledger.headSeq >= this.lastSeq)
    this.admission.oldestReceivedAt = this.ledger.oldestInflightReceivedAt
    this.findOldestUnread()
    this.admission.wake()
  }

  /**
   * Nothing is in flight but records wait: the oldest-age stat is the first unread record's. The
   * recent tail has it unless the backlog is larger than the tail (then it is read from the file);
   * when it is not written yet, onWritten finds it in the tail.
   */
  private findOldestUnread(): void {
    if (this.admission.oldestReceivedAt !== undefined || this.admission.records === 0) return
    const recent = this.tail.receivedAtAfter(this.lastReadSeq)
    if (recent !== undefined) this.admission.oldestReceivedAt = recent
    else if (!this.tail.holdsAllAfter(this.lastReadSeq)) void this.peekOldest()
  }

  /** The oldest record's receivedAt, from the file (stats only). */
  private async peekOldest(): Promise<void> {
    if (this.peeking) return
    this.peeking = true
    const gen = this.ledger.generation
    const reader = this.newReader(this.ledger.head, this.ledger.headSeq + 1, () => undefined, 64 * 1024)
    try {
      const [first] = await reader.next(1, 1)
      if (gen === this.ledger.generation && first !== undefined) {
        this.admission.oldestReceivedAt = first.record.receivedAt
      }
    } catch {
      // stats only
    } finally {
      await reader.close()
      this.peeking = false
    }
  }

  private logIoError(err: unknown, msg: string): void {
    this.ioErrorLog.error({ err }, msg)
  }
}

/** The record as a reader of the frame gets it (optional fields present only when set). */
function spooled(record: RecordInput, seq: number): SpooledRecord {
  const out: SpooledRecord = {
    seq,
    receivedAt: record.receivedAt,
    qos: record.qos,
    retain: record.retain,
    codec: record.codec,
    topic: record.topic,
    clientId: record.clientId,
    gatewayId: record.gatewayId,
    target: record.target,
    payload: record.payload,
  }
  if (record.username !== undefined) out.username = record.username
  if (record.key !== undefined) out.key = record.key
  return out
}
