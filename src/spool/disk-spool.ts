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
 *    writer finished. Every record returned passed its CRC check. So the forwarder may send a record
 *    before its fsync completed: after a power cut the core may hold a record the device was never
 *    acknowledged for, which the device then sends again (a duplicate, never a loss). Its seq may be
 *    given again to that or another record after the restart (the lost tail's seqs are unknown to
 *    recovery), so a core that de-duplicated by seq alone could drop the new record within its
 *    duplicate window; the JetStream msgID carries the receive time too for that reason
 *    (record.ts, deduplicationId). A kill -9 cannot cause this (the page cache survives).
 * 4. The commit file is durable before segments it makes obsolete are deleted; fully consumed
 *    segments (wholly before the commit point) are deleted, the active segment never is. The file
 *    lags the in-memory head by up to COMMIT_POINT_INTERVAL_MS: after a crash the records committed
 *    in that window are sent again (duplicates), never lost.
 * 5. Bounded: the bytes of uncommitted frames (depthBytes) stay within maxBytes (one record more
 *    than maxBytes is admitted into an empty spool). Files on disk exceed that by at most one
 *    partly-committed segment. When full, `whenFull` applies (below) and every drop is counted.
 *
 * ## Full, and a full disk
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
import { EdgebridgeError, SpoolFullError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import { RateLimitedLog } from '../observability/rate-limited-log.js'
import type { RecordInput, SpooledRecord } from '../record.js'
import { writeCommitPoint, type CommitPoint } from './commit-point.js'
import { DropReporter } from './drop-reporter.js'
import { encodeFrame, frameSize } from './frame-codec.js'
import { recover } from './recovery.js'
import { SegmentReader, type Position, type ReadItem } from './segment-reader.js'
import { SegmentWriter, type WriteEntry, type WriteFailureAction } from './segment-writer.js'
import { spoolIo, type SpoolIo } from './spool-io.js'
import { SEGMENT_HEADER_BYTES, segmentPath, type SegmentInfo } from './segment.js'
import {
  emptyStats,
  type AppendOptions,
  type DropListener,
  type FsyncPolicy,
  type ReadLimits,
  type RecoveryFigures,
  type Spool,
  type SpoolObserver,
  type SpoolStats,
  type WhenFull,
} from './spool.js'
import { closedError, DataSignal, SpaceQueue } from './waiters.js'

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024 // 64 MiB
export const DEFAULT_DISK_SPOOL_MAX_BYTES = 1024 * 1024 * 1024 // 1 GiB
export const DEFAULT_FSYNC_INTERVAL_MS = 100 // 100 ms
export const DEFAULT_DISK_FULL_RETRY_MS = 1000 // 1 second
export const IO_ERROR_LOG_INTERVAL_MS = 10_000 // 10 seconds
/**
 * At most one commit-point write per this long (200 ms). A stale commit point costs only duplicates
 * after a crash (records sent again), never a loss, so it need not be an fsynced rename per forwarder
 * batch: commit() moves the head in memory and returns, and the file follows in the background.
 */
export const COMMIT_POINT_INTERVAL_MS = 200

export interface DiskSpoolOptions {
  /** The spool directory (created if missing): `<dataDir>/spool`. */
  dir: string
  segmentBytes?: number
  maxBytes?: number
  whenFull?: WhenFull
  fsync?: FsyncPolicy
  fsyncIntervalMs?: number
  logger: Logger
  /** Replace filesystem calls (tests inject ENOSPC, count fsyncs, simulate a power cut). */
  io?: Partial<SpoolIo>
  /** At most one commit-point write per this long; default COMMIT_POINT_INTERVAL_MS (tests: 0). */
  commitIntervalMs?: number
  /** Retry a write that failed for lack of space after this long, if no commit frees space first. */
  diskFullRetryMs?: number
  readChunkBytes?: number
  dropLogIntervalMs?: number
  /** At most one IO error line per this long (default IO_ERROR_LOG_INTERVAL_MS); the rest are summarized. */
  ioErrorLogIntervalMs?: number
  /** Told of every drop (the loss ledger); the commit point never moves past a drop before it recorded it. */
  onDrop?: DropListener
  /** Told of fsyncs and group commits (the metrics). */
  observer?: SpoolObserver
}

interface Pending {
  record: RecordInput
  size: number
  seq: number
  durable: boolean
  done?: Promise<void>
}

/** Where a read record ends, kept until it is committed (the commit point is a byte position). */
interface Inflight {
  seq: number
  end: Position
  consumed: number
  receivedAt: number
}

function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}

export class DiskSpool implements Spool {
  private readonly dir: string
  private readonly segmentBytes: number
  private readonly maxBytes: number
  private readonly whenFull: WhenFull
  private readonly fsyncPolicy: FsyncPolicy
  private readonly observer: SpoolObserver | undefined
  /** What open() found on disk (the metrics' recovery figures). */
  private recovery: RecoveryFigures | undefined
  private readonly fsyncIntervalMs: number
  private readonly logger: Logger
  private readonly io: SpoolIo
  private readonly retryMs: number
  private readonly commitIntervalMs: number
  private readonly readChunkBytes: number | undefined
  private readonly drops: DropReporter
  private readonly spaceQueue = new SpaceQueue<Pending>()
  private readonly dataSignal = new DataSignal()

  private segments: SegmentInfo[] = []
  private writer: SegmentWriter | undefined
  private reader: SegmentReader | undefined
  private headReader: SegmentReader | undefined
  private headReaderGen = -1
  private inflight: Inflight[] = []
  private inflightHead = 0
  private head: Position = { segment: 0, offset: 0 }
  private headSeq = 0
  /** Bumped whenever head moves; the commit file catches up with it. */
  private headGen = 0
  private persistedGen = 0
  private persisting: Promise<void> | undefined
  /** The next commit-point write, when one is scheduled (schedulePersist). */
  private persistTimer: NodeJS.Timeout | undefined
  /** When the last scheduled commit-point write started (ms since the epoch). */
  private lastPersistAt = 0
  private lastSeq = 0
  private lastReadSeq = 0
  private readEpoch = 0
  private pendingSeek: { pos: Position; expectedSeq: number } | undefined
  private writtenVersion = 0
  private depthRecords = 0
  private depthBytes = 0
  private oldestReceivedAt: number | undefined
  private committedSeq = 0
  private appendedTotal = 0
  private committedTotal = 0
  private corruptFramesSkipped = 0
  private dropping = false
  private opened = false
  private closed = false
  /** IO errors repeat while a disk fails: one line at once, then a summary per interval. */
  private readonly ioErrorLog: RateLimitedLog

  constructor(options: DiskSpoolOptions) {
    this.dir = options.dir
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES
    this.maxBytes = options.maxBytes ?? DEFAULT_DISK_SPOOL_MAX_BYTES
    this.whenFull = options.whenFull ?? 'block'
    this.fsyncPolicy = options.fsync ?? 'always'
    this.fsyncIntervalMs = options.fsyncIntervalMs ?? DEFAULT_FSYNC_INTERVAL_MS
    this.logger = options.logger
    this.io = spoolIo(options.io)
    this.retryMs = options.diskFullRetryMs ?? DEFAULT_DISK_FULL_RETRY_MS
    this.commitIntervalMs = options.commitIntervalMs ?? COMMIT_POINT_INTERVAL_MS
    this.readChunkBytes = options.readChunkBytes
    this.drops = new DropReporter(this.logger, options.dropLogIntervalMs, options.onDrop)
    this.ioErrorLog = new RateLimitedLog(
      this.logger,
      options.ioErrorLogIntervalMs ?? IO_ERROR_LOG_INTERVAL_MS,
    )
    this.observer = options.observer
  }

  async open(): Promise<void> {
    if (this.closed) throw closedError()
    if (this.opened) return
    const t0 = performance.now()
    const r = await recover(this.io, this.dir, this.fsyncPolicy !== 'never', this.logger)
    this.segments = r.segments
    this.head = r.head
    this.headSeq = r.headSeq
    this.committedSeq = r.headSeq
    this.lastSeq = r.lastSeq
    this.lastReadSeq = r.headSeq
    this.depthBytes = r.depthBytes
    this.depthRecords = r.depthRecords
    this.oldestReceivedAt = r.oldestReceivedAt
    if (r.corruptTail) this.countCorrupt(1, { segment: this.active().firstSeq, reason: 'truncated tail' })
    this.writer = new SegmentWriter({
      dir: this.dir,
      segmentBytes: this.segmentBytes,
      fsync: this.fsyncPolicy,
      fsyncIntervalMs: this.fsyncIntervalMs,
      io: this.io,
      logger: this.logger,
      segments: this.segments,
      activeHandle: r.activeHandle,
      retryMs: this.retryMs,
      onWritten: () => {
        this.writtenVersion++
        this.dataSignal.notify()
        // The dropper reads the oldest records from disk: when it ran before they were written (a
        // burst of appends admitted at once), nothing else would wake it, and drop-oldest appends
        // would wait forever.
        if (this.spaceQueue.length > 0 && this.whenFull === 'drop-oldest') void this.runDropper()
      },
      onWriteFailure: (err, queued) => this.onWriteFailure(err, queued),
      onRecovered: () => this.onWriteRecovered(),
      observer: this.observer,
    })
    this.reader = this.newReader(this.head, this.headSeq + 1, (lost, detail) =>
      this.countCorrupt(lost, detail),
    )
    this.opened = true
    this.recovery = {
      records: r.depthRecords,
      bytes: r.depthBytes,
      truncatedBytes: r.truncatedBytes,
      durationSeconds: (performance.now() - t0) / 1000,
    }
    this.logger.info(
      {
        dir: this.dir,
        segments: this.segments.length,
        depthRecords: this.depthRecords,
        depthBytes: this.depthBytes,
        headSeq: this.headSeq,
        lastSeq: this.lastSeq,
        truncatedBytes: r.truncatedBytes,
        commitFile: r.commitFile,
        deletedSegments: r.deletedSegments,
        durationMs: Math.round(performance.now() - t0),
      },
      'spool recovered',
    )
  }

  async append(record: RecordInput, options: AppendOptions): Promise<number> {
    if (this.closed || !this.opened) throw closedError()
    const pending: Pending = { record, size: frameSize(record), seq: 0, durable: options.waitDurable }
    if (this.spaceQueue.length === 0 && this.fits(pending.size)) {
      this.admit(pending)
    } else if (this.whenFull === 'drop-newest') {
      this.drops.drop('drop-newest', 1, { topic: record.topic, clientId: record.clientId })
      throw new SpoolFullError(
        this.writer!.failing
          ? 'spool full: no space left on the device; record rejected'
          : `spool full (${this.depthBytes} of ${this.maxBytes} bytes): record rejected`,
      )
    } else {
      const admitted = this.spaceQueue.wait(pending, options.signal)
      if (this.whenFull === 'drop-oldest') void this.runDropper()
      await admitted
    }
    if (pending.done !== undefined) await pending.done
    return pending.seq
  }

  async read(limits: ReadLimits, signal?: AbortSignal): Promise<SpooledRecord[]> {
    try {
      while (!this.closed && this.opened && !signal?.aborted) {
        if (this.pendingSeek !== undefined) {
          this.reader!.seek(this.pendingSeek.pos, this.pendingSeek.expectedSeq)
          this.pendingSeek = undefined
        }
        const epoch = this.readEpoch
        const version = this.writtenVersion
        const items = await this.reader!.next(Math.max(1, limits.maxRecords), limits.maxBytes)
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

  async commit(seq: number): Promise<void> {
    if (this.closed || !this.opened) return
    if (seq > this.committedSeq) this.committedSeq = Math.min(seq, this.lastSeq)
    if (seq <= this.headSeq) return
    let count = 0
    let consumed = 0
    let last: Inflight | undefined
    while (this.inflightHead < this.inflight.length && this.inflight[this.inflightHead]!.seq <= seq) {
      last = this.inflight[this.inflightHead++]!
      consumed += last.consumed
      count++
    }
    if (last === undefined) return
    this.compactInflight()
    this.committedTotal += count
    this.moveHead(last.end, last.seq, count, consumed)
    this.schedulePersist()
  }

  stats(): SpoolStats {
    const s = emptyStats()
    s.depthRecords = this.depthRecords
    s.depthBytes = this.depthBytes
    s.oldestAgeMs =
      this.depthRecords > 0 && this.oldestReceivedAt !== undefined
        ? Math.max(0, Date.now() - this.oldestReceivedAt)
        : 0
    s.drops = { ...this.drops.counts }
    s.corruptFramesSkipped = this.corruptFramesSkipped
    s.bytesWritten = this.writer?.bytesWritten ?? 0
    s.appendedTotal = this.appendedTotal
    s.committedTotal = this.committedTotal
    s.committedSeq = this.committedSeq
    s.lastFsyncMs = this.writer?.lastFsyncMs ?? 0
    s.fsyncCount = this.writer?.fsyncCount ?? 0
    s.recovery = this.recovery
    s.writeFailing = this.writer?.failing ?? false
    return s
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.spaceQueue.failAll(closedError())
    this.dataSignal.close()
    if (!this.opened) return
    const unwritten = await this.writer!.close(closedError())
    if (unwritten > 0) {
      this.logger.error({ unwritten }, 'spool closed with records it could not write (disk full or failing)')
    }
    await this.reader!.close()
    await this.headReader?.close()
    if (this.persistTimer !== undefined) clearTimeout(this.persistTimer)
    this.persistTimer = undefined
    await this.persistHead().catch(() => undefined)
    this.drops.flush()
    this.ioErrorLog.flush()
  }

  // --- admission -----------------------------------------------------------------------------

  private fits(size: number): boolean {
    if (this.writer!.failing) return false
    return this.depthRecords === 0 || this.depthBytes + size <= this.maxBytes
  }

  private admit(p: Pending): void {
    p.seq = ++this.lastSeq
    const entry: WriteEntry = { frame: encodeFrame(p.record, p.seq), seq: p.seq }
    if (p.durable) {
      p.done = new Promise<void>((resolve, reject) => {
        entry.waiter = { resolve, reject }
      })
    }
    if (this.depthRecords === 0) this.oldestReceivedAt = p.record.receivedAt
    this.depthRecords++
    this.depthBytes += entry.frame.length
    this.appendedTotal++
    this.writer!.enqueue(entry)
  }

  private admitWaiters(): void {
    this.spaceQueue.admitWhile(
      (p) => this.fits(p.size),
      (p) => this.admit(p),
    )
    if (this.spaceQueue.length > 0 && this.whenFull === 'drop-oldest') void this.runDropper()
  }

  /** drop-oldest: move the head over the oldest records until the waiting append fits. */
  private async runDropper(): Promise<void> {
    if (this.dropping) return
    this.dropping = true
    try {
      while (!this.closed && this.spaceQueue.length > 0) {
        const next = this.spaceQueue.peek()!
        if (this.writer!.failing) {
          // The disk is full: only deleting a whole segment frees real space.
          if (!(await this.dropOldestSegment())) break
          this.writer!.kick()
          break
        }
        if (this.fits(next.size)) {
          this.admitWaiters()
          continue
        }
        const need = this.depthBytes + next.size - this.maxBytes
        if (!(await this.dropHeadRecords(need))) break
      }
    } finally {
      this.dropping = false
    }
  }

  private async dropHeadRecords(needBytes: number): Promise<boolean> {
    if (this.headReader === undefined || this.headReaderGen !== this.headGen) {
      await this.headReader?.close()
      this.headReader = this.newReader(this.head, this.headSeq + 1, () => undefined)
    }
    const items = await this.headReader.next(10_000, Math.max(1, needBytes))
    if (this.closed || items.length === 0) return false
    const last = items[items.length - 1]!
    let consumed = 0
    for (const it of items) consumed += it.consumed
    const fromSeq = this.headSeq + 1
    this.drops.drop('drop-oldest', items.length, { fromSeq, toSeq: last.record.seq })
    this.moveHead(last.end, last.record.seq, items.length, consumed)
    this.headReaderGen = this.headGen
    void this.persistHead()
    return true
  }

  /** Disk full under drop-oldest: drop every record up to the start of the next segment. */
  private async dropOldestSegment(): Promise<boolean> {
    const i = this.segments.findIndex((s) => s.firstSeq === this.head.segment)
    const next = this.segments[i + 1]
    if (i < 0 || next === undefined) return false
    const seg = this.segments[i]!
    const records = Math.max(0, next.firstSeq - 1 - this.headSeq)
    this.drops.drop('drop-oldest', records, {
      fromSeq: this.headSeq + 1,
      toSeq: next.firstSeq - 1,
      reason: 'disk full',
    })
    this.moveHead(
      { segment: next.firstSeq, offset: SEGMENT_HEADER_BYTES },
      next.firstSeq - 1,
      records,
      seg.size - this.head.offset,
    )
    await this.persistHead()
    return true
  }

  // --- the head (commit point) -----------------------------------------------------------------

  /** Everything up to `seq` (ending at `end`) has left the spool: confirmed or dropped. */
  private moveHead(end: Position, seq: number, records: number, bytes: number): void {
    this.head = { ...end }
    const seg = this.segments.find((s) => s.firstSeq === end.segment)
    const i = seg === undefined ? -1 : this.segments.indexOf(seg)
    if (seg !== undefined && seg.sealed && end.offset >= seg.size && this.segments[i + 1] !== undefined) {
      this.head = { segment: this.segments[i + 1]!.firstSeq, offset: SEGMENT_HEADER_BYTES }
    }
    this.headSeq = seq
    this.headGen++
    this.depthRecords = Math.max(0, this.depthRecords - records)
    this.depthBytes = Math.max(0, this.depthBytes - bytes)
    if (this.headSeq >= this.lastSeq) {
      this.depthRecords = 0
      this.depthBytes = 0
    }
    // Records the forwarder has not read yet were dropped: its next read starts at the head.
    if (this.lastReadSeq < seq) {
      this.inflight = []
      this.inflightHead = 0
      this.lastReadSeq = seq
      this.readEpoch++
      this.pendingSeek = { pos: { ...this.head }, expectedSeq: seq + 1 }
    } else {
      while (this.inflightHead < this.inflight.length && this.inflight[this.inflightHead]!.seq <= seq) {
        this.inflightHead++
      }
    }
    this.oldestReceivedAt = this.inflight[this.inflightHead]?.receivedAt
    if (this.oldestReceivedAt === undefined && this.depthRecords > 0) void this.peekOldest()
    this.admitWaiters()
  }

  /** Write the commit point soon: at most once per COMMIT_POINT_INTERVAL_MS, coalescing commits. */
  private schedulePersist(): void {
    if (this.persistTimer !== undefined || this.closed) return
    const wait = Math.max(0, this.lastPersistAt + this.commitIntervalMs - Date.now())
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined
      this.lastPersistAt = Date.now()
      void this.persistHead()
    }, wait)
    // close() writes the last commit point; a timer alone need not keep the process up.
    this.persistTimer.unref()
  }

  /** Write the commit file for the current head (coalesced), then delete segments it made obsolete. */
  private async persistHead(): Promise<void> {
    const target = this.headGen
    while (this.persistedGen < target) {
      if (this.persisting !== undefined) {
        await this.persisting
        continue
      }
      const gen = this.headGen
      const point: CommitPoint = {
        segment: this.head.segment,
        offset: this.head.offset,
        headSeq: this.headSeq,
      }
      // Drops are reported before the head moves over them: once the listener (the loss ledger)
      // recorded them, a crash cannot leave the head past a drop it does not know of.
      this.persisting = this.drops
        .whenRecorded()
        .then(() => writeCommitPoint(this.io, this.dir, point, this.fsyncPolicy !== 'never'))
        .then(
          async () => {
            this.persistedGen = gen
            await this.deleteObsoleteSegments(point.segment)
          },
          (err: unknown) => {
            // Not fatal: the durable commit point lags (a crash would re-send records: duplicates).
            this.logIoError(err, 'spool could not write its commit file; will retry on the next commit')
            this.persistedGen = Math.max(this.persistedGen, target)
          },
        )
        .finally(() => {
          this.persisting = undefined
        })
      await this.persisting
    }
  }

  private async deleteObsoleteSegments(headSegment: number): Promise<void> {
    let deleted = 0
    while (this.segments.length > 1 && this.segments[0]!.firstSeq < headSegment && this.segments[0]!.sealed) {
      const seg = this.segments.shift()!
      await this.io.unlink(segmentPath(this.dir, seg.firstSeq)).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          this.logIoError(err, 'spool could not delete a segment')
      })
      deleted++
    }
    if (deleted > 0 && this.writer!.failing) this.writer!.kick()
  }

  private async peekOldest(): Promise<void> {
    const gen = this.headGen
    const reader = this.newReader(this.head, this.headSeq + 1, () => undefined, 64 * 1024)
    try {
      const [first] = await reader.next(1, 1)
      if (gen === this.headGen && first !== undefined) this.oldestReceivedAt = first.record.receivedAt
    } catch {
      // stats only
    } finally {
      await reader.close()
    }
  }

  // --- reading -------------------------------------------------------------------------------

  private deliver(items: ReadItem[]): SpooledRecord[] {
    const out: SpooledRecord[] = new Array(items.length)
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!
      out[i] = it.record
      this.inflight.push({
        seq: it.record.seq,
        end: it.end,
        consumed: it.consumed,
        receivedAt: it.record.receivedAt,
      })
    }
    this.lastReadSeq = items[items.length - 1]!.record.seq
    if (this.oldestReceivedAt === undefined) this.oldestReceivedAt = items[0]!.record.receivedAt
    return out
  }

  private compactInflight(): void {
    if (this.inflightHead > 1024 && this.inflightHead * 2 > this.inflight.length) {
      this.inflight = this.inflight.slice(this.inflightHead)
      this.inflightHead = 0
    }
  }

  private newReader(
    pos: Position,
    expectedSeq: number,
    onCorrupt: (lost: number, detail: { segment: number; offset: number; reason: string }) => void,
    chunkBytes = this.readChunkBytes,
  ): SegmentReader {
    return new SegmentReader(
      { dir: this.dir, segments: this.segments, chunkBytes, onCorrupt },
      pos,
      expectedSeq,
    )
  }

  private countCorrupt(lost: number, detail: Record<string, unknown>): void {
    this.corruptFramesSkipped += lost
    this.depthRecords = Math.max(0, this.depthRecords - lost)
    this.drops.drop('corrupt', lost, detail)
  }

  // --- write failures ------------------------------------------------------------------------

  private onWriteFailure(err: unknown, queued: WriteEntry[]): WriteFailureAction {
    if (isNoSpace(err)) {
      if (this.whenFull === 'drop-newest') {
        let bytes = 0
        for (const e of queued) {
          bytes += e.frame.length
          e.waiter?.reject(
            new SpoolFullError('spool full: no space left on the device; record rejected', { cause: err }),
          )
        }
        this.depthRecords = Math.max(0, this.depthRecords - queued.length)
        this.depthBytes = Math.max(0, this.depthBytes - bytes)
        // Their seqs were assigned and are never reused: the core will see this range missing.
        this.drops.drop('drop-newest', queued.length, {
          reason: 'no space left on device',
          fromSeq: queued[0]?.seq,
          toSeq: queued[queued.length - 1]?.seq,
        })
        return 'discard'
      }
      this.logIoError(err, 'spool: no space left on the device; holding appends until space is freed')
      if (this.whenFull === 'drop-oldest') void this.runDropper()
      return 'retry'
    }
    this.logIoError(err, 'spool write failed; waiting appends are refused and the write is retried')
    const ioErr = new EdgebridgeError('SPOOL_IO', `spool write failed: ${(err as Error).message}`, {
      cause: err,
      retriable: true,
    })
    for (const e of queued) {
      e.waiter?.reject(ioErr)
      delete e.waiter
    }
    return 'retry'
  }

  private onWriteRecovered(): void {
    this.logger.info('spool writes succeed again')
    this.admitWaiters()
  }

  private logIoError(err: unknown, msg: string): void {
    this.ioErrorLog.error({ err }, msg)
  }

  private active(): SegmentInfo {
    return this.segments[this.segments.length - 1]!
  }
}
