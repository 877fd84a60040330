/**
 * The loss ledger: every record the gateway gives up on, with its seq range and the reason, in
 * `<dataDir>/loss-ledger.jsonl`. It is what lets `edgebridge audit` tell a gap in a gateway's
 * sequence at the core that has a recorded cause (explained) from one that has none (a bug, or
 * loss outside the gateway).
 *
 * ## Format (one JSON object a line, append-only; field names are the format: never rename them)
 *
 *   {"v":1,"at":"2026-12-02T07:30:00.000Z","gatewayId":"gw-1","reason":"drop-oldest",
 *    "count":120,"fromSeq":4711,"toSeq":4830}
 *
 * - `v`: format version (1).
 * - `at`: when the gateway gave the records up.
 * - `gatewayId`: the gateway the seqs belong to (seq is per gateway: record.ts).
 * - `reason`: `drop-oldest` and `drop-newest` (spool full, `spool.whenFull`), `corrupt` (a spool
 *   frame that failed its CRC on read, or a torn tail at recovery), `dead-letter` (the core refused
 *   the record for good; it is in dead-letter.jsonl).
 * - `count`: records given up.
 * - `fromSeq`, `toSeq`: the seq range, inclusive, when the records had seqs. An append refused by a
 *   full spool (`drop-newest`) never got one, so the core sees no gap for it; such lines carry
 *   `clientId` and `topic` instead (of the first record, when several are folded into one line).
 * - `clientId`, `topic`, `cause`: optional detail.
 *
 * ## Guarantees
 *
 * - A line is durable (written and fsynced) before the promise `record()` returned resolves; the
 *   disk spool waits for it before persisting a commit point past the dropped records, so a crash
 *   cannot leave a gap at the core without its line here.
 * - Writes are group-committed: lines queued while a write is in flight go out together with one
 *   fsync, and adjacent drops of the same reason fold into one line (a contiguous seq range, or a
 *   run of seq-less drop-newest), so a flood of drops is a handful of lines, not one per record.
 * - Crash-safe to read: a torn last line (a crash in the middle of a write) is skipped by the
 *   reader; any other line that does not parse is counted as damaged.
 * - The daemon creates the file at start, so every gateway with a `dataDir` has one, empty when it
 *   never gave anything up.
 * - A ledger that cannot be written (disk full, permissions) is logged, at most every 10 s, and
 *   never blocks the spool: the data path is worth more than its bookkeeping.
 * - A line may name a seq that did reach the core (a corrupt region that held no record, a drop
 *   whose commit point was never persisted before a crash): the audit only ever uses lines to
 *   explain gaps, so an extra line can hide nothing.
 */
import { createReadStream } from 'node:fs'
import { mkdir, open, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { createInterface } from 'node:readline'
import type { Logger } from '../observability/logger.js'
import { RateLimitedLog } from '../observability/rate-limited-log.js'
import type { DropEvent, DropReason } from '../spool/spool.js'

export const LOSS_LEDGER_FILE = 'loss-ledger.jsonl'
export const LOSS_LEDGER_VERSION = 1
/** Least time between two log lines about a ledger that cannot be written (10 seconds). */
const WRITE_ERROR_LOG_INTERVAL_MS = 10_000

export type LossReason = DropReason | 'dead-letter'

/** What a caller reports: a spool drop, or a dead letter. */
export interface Loss extends Omit<DropEvent, 'reason'> {
  reason: LossReason
}

/** One line of the ledger: the loss, and what the ledger adds. */
export interface LossEntry extends Loss {
  v: number
  at: string
  gatewayId: string
}

export class LossLedger {
  private queue: LossEntry[] = []
  private waiters: Array<() => void> = []
  private writing: Promise<void> | undefined
  private file: FileHandle | undefined
  private closed = false
  /** Write errors repeat while the disk fails: one line at once, then a summary per interval. */
  private readonly errorLog: RateLimitedLog

  constructor(
    readonly path: string,
    private readonly gatewayId: string,
    private readonly logger: Logger,
    errorLogIntervalMs = WRITE_ERROR_LOG_INTERVAL_MS,
  ) {
    this.errorLog = new RateLimitedLog(logger, errorLogIntervalMs)
  }

  /**
   * Creates the file if it is not there: an empty ledger says "nothing given up", which the audit
   * can tell from "no ledger". Not fatal when it fails (logged; `record` tries again).
   */
  async open(): Promise<void> {
    try {
      await mkdir(dirname(this.path), { recursive: true })
      this.file ??= await open(this.path, 'a', 0o640)
    } catch (err) {
      this.logger.error({ err, path: this.path }, 'could not create the loss ledger')
    }
  }

  /** Records a loss; resolves once its line is durable (or could not be written: logged). */
  record(loss: Loss): Promise<void> {
    if (this.closed || loss.count <= 0) return Promise.resolve()
    const entry: LossEntry = {
      v: LOSS_LEDGER_VERSION,
      at: new Date().toISOString(),
      gatewayId: this.gatewayId,
      ...loss,
    }
    const last = this.queue[this.queue.length - 1]
    if (last === undefined || !fold(last, entry)) this.queue.push(entry)
    const done = new Promise<void>((resolve) => this.waiters.push(resolve))
    this.writing ??= this.writeLoop()
    return done
  }

  /** The spool's drop listener. */
  readonly onDrop = (event: DropEvent): Promise<void> => this.record(event)

  /** Writes what is queued, then closes the file. Safe to call twice. */
  async close(): Promise<void> {
    if (this.writing !== undefined) await this.writing
    this.closed = true
    const file = this.file
    this.file = undefined
    await file?.close().catch(() => undefined)
    this.errorLog.flush()
  }

  private async writeLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const entries = this.queue
      const waiters = this.waiters
      this.queue = []
      this.waiters = []
      try {
        if (this.file === undefined) {
          await mkdir(dirname(this.path), { recursive: true })
          this.file = await open(this.path, 'a', 0o640)
        }
        await this.file.appendFile(entries.map((e) => JSON.stringify(e) + '\n').join(''))
        await this.file.sync()
      } catch (err) {
        this.logWriteError(err, entries)
        await this.file?.close().catch(() => undefined)
        this.file = undefined
      }
      for (const resolve of waiters) resolve()
    }
    this.writing = undefined
  }

  private logWriteError(err: unknown, entries: LossEntry[]): void {
    this.errorLog.error(
      { err, path: this.path, lines: entries.length, first: entries[0] },
      'could not write the loss ledger: these losses are only in the log',
    )
  }
}

/** Folds `next` into `last` when it continues it (same reason and detail, adjacent or seq-less). */
function fold(last: LossEntry, next: LossEntry): boolean {
  if (last.reason !== next.reason || last.cause !== next.cause) return false
  const lastRanged = last.fromSeq !== undefined && last.toSeq !== undefined
  const nextRanged = next.fromSeq !== undefined && next.toSeq !== undefined
  if (lastRanged && nextRanged) {
    if (next.fromSeq !== last.toSeq! + 1) return false
    last.toSeq = next.toSeq
  } else if (lastRanged || nextRanged) {
    return false
  }
  last.count += next.count
  if (last.clientId !== next.clientId) delete last.clientId
  if (last.topic !== next.topic) delete last.topic
  return true
}

export interface LedgerReadResult {
  /** Lines that did not parse, other than a torn last line. */
  damagedLines: number
  /** The last line was cut short (a crash during a write) and was skipped. */
  tornTail: boolean
}

/**
 * Reads a ledger line by line (it is small, but is never read whole), calling `onEntry` for each
 * entry. Rejects with the fs error when the file cannot be opened (ENOENT: no such ledger).
 */
export async function readLossLedger(
  path: string,
  onEntry: (entry: LossEntry) => void,
): Promise<LedgerReadResult> {
  const stream = createReadStream(path, { encoding: 'utf8' })
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve())
    stream.once('error', reject)
  })
  await opened
  const lines = createInterface({ input: stream, crlfDelay: Infinity })
  let damaged = 0
  let pendingBad = false
  for await (const line of lines) {
    if (pendingBad) damaged++
    pendingBad = false
    if (line.trim() === '') continue
    const entry = parseEntry(line)
    if (entry === undefined) pendingBad = true
    else onEntry(entry)
  }
  // Only the very last line can be a torn write; a bad line before it is damage.
  return { damagedLines: damaged, tornTail: pendingBad }
}

function parseEntry(line: string): LossEntry | undefined {
  try {
    const value = JSON.parse(line) as Partial<LossEntry>
    if (typeof value.gatewayId !== 'string' || typeof value.reason !== 'string') return undefined
    if (typeof value.count !== 'number') return undefined
    return value as LossEntry
  } catch {
    return undefined
  }
}
