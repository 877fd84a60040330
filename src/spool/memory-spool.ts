/**
 * MemorySpool: the Spool contract held in process memory. Bounded by `maxBytes` (recordSize() of each
 * record), lost on exit. For tests, and for operators who accept losing what is spooled on a crash.
 *
 * Invariants:
 * - `queue[head..]` holds exactly the uncommitted records, in seq order; `cursor` indexes the next
 *   one to read (head <= cursor <= queue.length).
 * - seq is assigned at admission (when the record enters the queue), so seq order is read order,
 *   also for appends that waited for space.
 * - Blocked appends are admitted strictly in arrival order (SpaceQueue).
 * - A record larger than maxBytes is admitted when the spool is empty, so one huge record can never
 *   wedge a `block` spool forever.
 */
import { SpoolFullError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import { recordSize, type RecordInput, type SpooledRecord } from '../record.js'
import { DropReporter } from './drop-reporter.js'
import {
  spoolStats,
  type AppendOptions,
  type SpoolOptions,
  type ReadLimits,
  type Spool,
  type SpoolStats,
  type SpoolTotals,
  type WhenFull,
} from './spool.js'
import { closedError, DataSignal, SpaceQueue } from './waiters.js'

export const DEFAULT_MEMORY_SPOOL_MAX_BYTES = 64 * 1024 * 1024 // 64 MiB

export interface MemorySpoolOptions extends SpoolOptions {
  /** First seq to assign minus one (a spool that must continue a sequence); default 0. */
  lastSeq?: number
}

interface Entry {
  record: SpooledRecord
  size: number
}

interface Pending {
  record: RecordInput
  size: number
  seq: number
}

export class MemorySpool implements Spool {
  private readonly maxBytes: number
  private readonly whenFull: WhenFull
  private readonly logger: Logger
  private readonly drops: DropReporter
  private readonly spaceQueue = new SpaceQueue<Pending>()
  private readonly dataSignal = new DataSignal()

  private queue: Entry[] = []
  private head = 0
  private cursor = 0
  private depthBytes = 0
  private lastSeq: number
  private readonly totals: SpoolTotals = { appendedTotal: 0, committedTotal: 0, committedSeq: 0 }
  private closed = false

  constructor(options: MemorySpoolOptions) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MEMORY_SPOOL_MAX_BYTES
    this.whenFull = options.whenFull ?? 'block'
    this.logger = options.logger
    this.lastSeq = options.lastSeq ?? 0
    this.totals.committedSeq = this.lastSeq
    this.drops = new DropReporter(this.logger, options.dropLogIntervalMs, options.onDrop)
  }

  async append(record: RecordInput, options: AppendOptions): Promise<number> {
    if (this.closed) throw closedError()
    const pending: Pending = { record, size: recordSize(record), seq: 0 }
    if (this.spaceQueue.length === 0 && this.fits(pending.size)) {
      this.admit(pending)
      return pending.seq
    }
    switch (this.whenFull) {
      case 'drop-newest':
        this.drops.drop('drop-newest', 1, { topic: record.topic, clientId: record.clientId })
        throw new SpoolFullError(`spool full (${this.depthBytes} of ${this.maxBytes} bytes): record rejected`)
      case 'drop-oldest':
        this.dropOldestUntilFits(pending.size)
        this.admit(pending)
        return pending.seq
      case 'block':
        await this.spaceQueue.wait(pending, options.signal)
        return pending.seq
    }
  }

  async read(limits: ReadLimits, signal?: AbortSignal): Promise<SpooledRecord[]> {
    while (!this.closed && !signal?.aborted) {
      if (this.cursor < this.queue.length) return this.take(limits)
      if (!(await this.dataSignal.wait(signal))) break
    }
    return []
  }

  async commit(seq: number): Promise<number> {
    if (this.closed || seq <= this.totals.committedSeq) return 0
    this.totals.committedSeq = Math.min(seq, this.lastSeq)
    const committedBefore = this.totals.committedTotal
    while (this.head < this.queue.length && this.queue[this.head]!.record.seq <= seq) {
      this.depthBytes -= this.queue[this.head]!.size
      this.forgetHead()
      this.totals.committedTotal++
    }
    this.afterRemove()
    return this.totals.committedTotal - committedBefore
  }

  stats(): SpoolStats {
    const depth = {
      records: this.queue.length - this.head,
      bytes: this.depthBytes,
      oldestReceivedAt: this.queue[this.head]?.record.receivedAt,
    }
    return spoolStats(depth, this.totals, this.drops.counts)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.spaceQueue.failAll(closedError())
    this.dataSignal.close()
    this.drops.flush()
  }

  private fits(size: number): boolean {
    return this.queue.length === this.head || this.depthBytes + size <= this.maxBytes
  }

  private admit(pending: Pending): void {
    pending.seq = ++this.lastSeq
    this.queue.push({ record: { ...pending.record, seq: pending.seq }, size: pending.size })
    this.depthBytes += pending.size
    this.totals.appendedTotal++
    this.dataSignal.notify()
  }

  private dropOldestUntilFits(size: number): void {
    let dropped = 0
    let firstSeq = 0
    while (!this.fits(size)) {
      const entry = this.queue[this.head]!
      if (dropped === 0) firstSeq = entry.record.seq
      this.depthBytes -= entry.size
      this.forgetHead()
      dropped++
    }
    if (this.cursor < this.head) this.cursor = this.head
    this.drops.drop('drop-oldest', dropped, { fromSeq: firstSeq, toSeq: firstSeq + dropped - 1 })
    this.compact()
  }

  private afterRemove(): void {
    if (this.cursor < this.head) this.cursor = this.head
    this.compact()
    this.spaceQueue.admitWhile(
      (p) => this.fits(p.size),
      (p) => this.admit(p),
    )
  }

  /**
   * The record at the head left the spool: its slot lets go of it at once. Kept until the next
   * compaction, a thousand committed records (payloads included) outlived a young-generation GC or
   * two and were copied and promoted: most of the gateway's GC time at full load.
   */
  private forgetHead(): void {
    this.queue[this.head] = undefined as unknown as (typeof this.queue)[number]
    this.head++
  }

  /** Drop the consumed prefix of the array once it dominates, keeping shift() O(1) amortized. */
  private compact(): void {
    if (this.head === this.queue.length) {
      // All gone (the usual case when the core keeps up): empty in place.
      this.queue.length = 0
      this.cursor = 0
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.cursor -= this.head
      this.head = 0
    }
  }

  private take(limits: ReadLimits): SpooledRecord[] {
    const out: SpooledRecord[] = []
    let bytes = 0
    while (this.cursor < this.queue.length && out.length < Math.max(1, limits.maxRecords)) {
      const entry = this.queue[this.cursor]!
      if (out.length > 0 && bytes + entry.size > limits.maxBytes) break
      out.push(entry.record)
      bytes += entry.size
      this.cursor++
    }
    return out
  }
}
