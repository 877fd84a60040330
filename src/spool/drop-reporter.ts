/**
 * Counts dropped records, tells the listener (the loss ledger) and logs them through one
 * RateLimitedLog per reason.
 *
 * Invariant: nothing is dropped silently. Every drop is counted at once (stats().drops) and shows up
 * in a log line; under a flood of drops the lines are summarized (`dropped` says how many records a
 * line stands for) so the log itself cannot become the next outage.
 */
import type { Logger } from '../observability/logger.js'
import { RateLimitedLog } from '../observability/rate-limited-log.js'
import type { DropEvent, DropListener, DropReason } from './spool.js'

export const DEFAULT_DROP_LOG_INTERVAL_MS = 10_000 // 10 seconds

const MESSAGES: Record<DropReason, string> = {
  corrupt: 'spool skipped corrupt records',
  'drop-oldest': 'spool full: dropped the oldest unconfirmed records',
  'drop-newest': 'spool full: rejected new records',
}

const REASONS = Object.keys(MESSAGES) as DropReason[]

export class DropReporter {
  readonly counts: Record<DropReason, number> = { 'drop-oldest': 0, 'drop-newest': 0, corrupt: 0 }
  private readonly logs: Record<DropReason, RateLimitedLog>
  /** Settles once the listener has recorded every drop reported so far. */
  private recorded: Promise<void> = Promise.resolve()

  constructor(
    logger: Logger,
    intervalMs = DEFAULT_DROP_LOG_INTERVAL_MS,
    private readonly listener?: DropListener,
  ) {
    const log = (): RateLimitedLog => new RateLimitedLog(logger, intervalMs, { countField: 'dropped' })
    this.logs = { corrupt: log(), 'drop-oldest': log(), 'drop-newest': log() }
  }

  /**
   * Count `n` dropped records; `detail` goes into the log line and, where it names them (`fromSeq`,
   * `toSeq`, `clientId`, `topic`, `reason`: why, in more words), to the listener.
   */
  drop(reason: DropReason, n: number, detail: Record<string, unknown> = {}): void {
    if (n <= 0) return
    if (this.listener !== undefined) this.tell(dropEvent(reason, n, detail))
    this.counts[reason] += n
    // `reason` is the policy; the detail's own reason ("disk full") is logged as its cause.
    const { reason: cause, ...rest } = detail
    const fields: Record<string, unknown> = { reason, droppedTotal: this.counts[reason], ...rest }
    if (cause !== undefined) fields.cause = cause
    this.logs[reason].warn(fields, MESSAGES[reason], n)
  }

  /** Resolves once the listener recorded every drop so far (at once without a listener). */
  whenRecorded(): Promise<void> {
    return this.recorded
  }

  /** Log what is folded now (on close, so the last burst is not lost from the log). */
  flush(): void {
    for (const reason of REASONS) this.logs[reason].flush()
  }

  private tell(event: DropEvent): void {
    const done = this.listener!(event)
    if (done !== undefined) {
      const previous = this.recorded
      this.recorded = Promise.all([previous, done]).then(
        () => undefined,
        () => undefined,
      )
    }
  }
}

function dropEvent(reason: DropReason, count: number, detail: Record<string, unknown>): DropEvent {
  const event: DropEvent = { reason, count }
  if (typeof detail.fromSeq === 'number') event.fromSeq = detail.fromSeq
  if (typeof detail.toSeq === 'number') event.toSeq = detail.toSeq
  if (typeof detail.clientId === 'string') event.clientId = detail.clientId
  if (typeof detail.topic === 'string') event.topic = detail.topic
  if (typeof detail.reason === 'string') event.cause = detail.reason
  return event
}
