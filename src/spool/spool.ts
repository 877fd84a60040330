/**
 * The Spool contract: the one place a message lives between the device's acknowledgement and the
 * core's confirmation. Two implementations: memory-spool.ts (bounded, lost on exit; for tests and
 * for operators who choose it knowingly) and the durable disk spool.
 *
 * Contract (every implementation, tested by test/unit/spool-contract.ts):
 * - `append` assigns the next `seq` (strictly increasing for the spool's whole life, across restarts
 *   for a durable spool) and resolves with it once the record is durable under the spool's policy
 *   when `waitDurable` is true (QoS 1/2), or once it is accepted when false (QoS 0).
 *   Records become readable in append order, whatever order their durability resolves in.
 * - When full, `whenFull` decides: `block` keeps the append pending until space is freed by
 *   `commit` (back-pressure: the device gets no PUBACK); `drop-newest` rejects the append with
 *   SpoolFullError; `drop-oldest` removes the oldest unconfirmed records to make room. Every drop is
 *   counted in `stats().drops` and logged (rate-limited): nothing is dropped silently.
 * - `read` returns the next records after the read cursor, in FIFO order, at most `maxRecords` and
 *   `maxBytes` (but always at least one record when any is available, even if larger than maxBytes).
 *   It waits until a record is available; it resolves with [] when `signal` aborts or the spool
 *   closes. There is one reader (the forwarder).
 * - `commit(seq)` says the core confirmed every record up to and including `seq`; those records may
 *   be deleted. Committing a seq at or below the commit point is a no-op. It resolves with the number
 *   of records it took off the spool (fewer than the batch when drop-oldest already took some).
 * - There is no way back: the read cursor only moves forward. The forwarder keeps a batch until the
 *   core confirmed it (it retries the same batch, it never reads it twice), and a restart of a
 *   durable spool reads every unconfirmed record again from the commit point.
 * - `close()` is safe to call twice; pending appends and reads settle (reads with [], appends reject
 *   with SPOOL_CLOSED).
 */

import type { Logger } from '../observability/logger.js'
import type { RecordInput, SpooledRecord } from '../record.js'

export type WhenFull = 'block' | 'drop-oldest' | 'drop-newest'
export type FsyncPolicy = 'always' | 'interval' | 'never'

export interface AppendOptions {
  /** Resolve only once the record is durable under the spool's policy (QoS 1 and 2). */
  waitDurable: boolean
  /** Abandons a `block`ed append (e.g. the device disconnected); rejects with ABORTED. */
  signal?: AbortSignal
}

export interface ReadLimits {
  maxRecords: number
  maxBytes: number
}

export type DropReason = 'drop-oldest' | 'drop-newest' | 'corrupt'

/**
 * One drop as the spool reports it to its listener (the loss ledger). `fromSeq`..`toSeq` is the seq
 * range given up, when the records had seqs: drop-newest of an append that was never admitted has
 * none (no seq was consumed, so the core sees no gap); a corrupt region's range is reported in
 * pieces as the reader learns it (the first record at once, the rest when the next good frame
 * shows where the gap ends).
 */
export interface DropEvent {
  reason: DropReason
  count: number
  fromSeq?: number
  toSeq?: number
  clientId?: string
  topic?: string
  /** Why, in more words: "disk full", "truncated tail", a CRC failure. */
  cause?: string
}

/**
 * Told of every drop as it is counted. A promise it returns is awaited before the durable spool
 * persists a commit point past the dropped records, so a crash cannot leave a gap the listener did
 * not record. It must not reject (a failure is its own to log).
 */
export type DropListener = (event: DropEvent) => Promise<void> | void

/** Told of the disk spool's writes (the metrics): cheap, synchronous, never throwing. */
export interface SpoolObserver {
  /** One fsync took `seconds`. */
  fsynced(seconds: number): void
  /** One group commit wrote `records` records with one write (one fsync covers it under `always`). */
  groupWritten(records: number): void
}

/** What the last start recovered from disk (a durable spool only). */
export interface RecoveryFigures {
  /** Unconfirmed records found, to be forwarded. */
  records: number
  bytes: number
  /** Bytes of a torn tail cut off. */
  truncatedBytes: number
  durationSeconds: number
}

/** What every spool is configured with. */
export interface SpoolOptions {
  /** The bound on what the spool holds (its default depends on the spool). */
  maxBytes?: number
  /** What an append meets when the spool is full; default `block`. */
  whenFull?: WhenFull
  logger: Logger
  /** Interval between summarized drop log lines; default DEFAULT_DROP_LOG_INTERVAL_MS. */
  dropLogIntervalMs?: number
  /** Told of every drop (the loss ledger); a durable spool's commit point never passes a drop before it recorded it. */
  onDrop?: DropListener
}

export interface SpoolStats {
  /** Records appended but not yet committed. */
  depthRecords: number
  depthBytes: number
  /** Age of the oldest uncommitted record in ms, 0 when empty. */
  oldestAgeMs: number
  /** Messages dropped by reason since start. */
  drops: Record<DropReason, number>
  /** Corrupt frames skipped during recovery or reads since start. */
  corruptFramesSkipped: number
  /** Bytes written to storage since start. */
  bytesWritten: number
  appendedTotal: number
  committedTotal: number
  /** Highest seq committed; 0 when none. */
  committedSeq: number
  /** Last fsync duration in ms, and the count of fsyncs; zero for spools that do not fsync. */
  lastFsyncMs: number
  fsyncCount: number
  /** Set by a durable spool once open. */
  recovery?: RecoveryFigures
  /** A durable spool whose writes fail (disk full or failing): appends wait or are refused. */
  writeFailing?: boolean
}

export interface Spool {
  append(record: RecordInput, options: AppendOptions): Promise<number>
  read(limits: ReadLimits, signal?: AbortSignal): Promise<SpooledRecord[]>
  commit(seq: number): Promise<number>
  stats(): SpoolStats
  close(): Promise<void>
}

/** What a spool holds now. */
export interface SpoolDepth {
  records: number
  bytes: number
  /** receivedAt of the oldest record held, when known. */
  oldestReceivedAt: number | undefined
}

/** The running totals every spool keeps. */
export interface SpoolTotals {
  appendedTotal: number
  committedTotal: number
  /** Highest seq committed; 0 when none. */
  committedSeq: number
}

/** The stats every spool reports the same way; a spool that writes files adds its IO figures. */
export function spoolStats(
  depth: SpoolDepth,
  totals: SpoolTotals,
  drops: Record<DropReason, number>,
): SpoolStats {
  const age =
    depth.records > 0 && depth.oldestReceivedAt !== undefined ? Date.now() - depth.oldestReceivedAt : 0
  return {
    depthRecords: depth.records,
    depthBytes: depth.bytes,
    oldestAgeMs: Math.max(0, age),
    drops: { ...drops },
    corruptFramesSkipped: 0,
    bytesWritten: 0,
    appendedTotal: totals.appendedTotal,
    committedTotal: totals.committedTotal,
    committedSeq: totals.committedSeq,
    lastFsyncMs: 0,
    fsyncCount: 0,
  }
}
