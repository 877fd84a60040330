/**
 * Counts dropped records and logs them, at most one line per reason per interval.
 *
 * Invariant: nothing is dropped silently. Every drop is counted at once (stats().drops) and shows up
 * in a log line; under a flood of drops the lines are summarized ("N dropped in the last Xs") so the
 * log itself cannot become the next outage. The first drop of a burst is logged immediately; later
 * ones are folded into the next line, which a timer emits when the interval ends.
 */
import type { Logger } from '../observability/logger.js'
import type { DropEvent, DropListener, DropReason } from './spool.js'

export const DEFAULT_DROP_LOG_INTERVAL_MS = 10_000 // 10 seconds

export class DropReporter {
  readonly counts: Record<DropReason, number> = { 'drop-oldest': 0, 'drop-newest': 0, corrupt: 0 }
  private readonly pending: Record<DropReason, number> = { 'drop-oldest': 0, 'drop-newest': 0, corrupt: 0 }
  private readonly lastLogAt: Record<DropReason, number> = { 'drop-oldest': 0, 'drop-newest': 0, corrupt: 0 }
  private timer: NodeJS.Timeout | undefined
  /** Settles once the listener has recorded every drop reported so far. */
  private recorded: Promise<void> = Promise.resolve()

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = DEFAULT_DROP_LOG_INTERVAL_MS,
    private readonly listener?: DropListener,
  ) {}

  /**
   * Count `n` dropped records; `detail` goes into the log line and, where it names them (`fromSeq`,
   * `toSeq`, `clientId`, `topic`, `reason`), to the listener.
   */
  drop(reason: DropReason, n: number, detail: Record<string, unknown> = {}): void {
    if (n <= 0) return
    if (this.listener !== undefined) this.tell(dropEvent(reason, n, detail))
    this.counts[reason] += n
    this.pending[reason] += n
    const now = Date.now()
    if (now - this.lastLogAt[reason] >= this.intervalMs) {
      this.emit(reason, now, detail)
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.intervalMs)
      this.timer.unref()
    }
  }

  /** Resolves once the listener recorded every drop so far (at once without a listener). */
  whenRecorded(): Promise<void> {
    return this.recorded
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

  /** Log what is pending now (also called on close so the last burst is not lost from the log). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    const now = Date.now()
    for (const reason of Object.keys(this.pending) as DropReason[]) {
      if (this.pending[reason] > 0) this.emit(reason, now, {})
    }
  }

  private emit(reason: DropReason, now: number, detail: Record<string, unknown>): void {
    const dropped = this.pending[reason]
    this.pending[reason] = 0
    this.lastLogAt[reason] = now
    const msg =
      reason === 'corrupt'
        ? 'spool skipped corrupt records'
        : reason === 'drop-oldest'
          ? 'spool full: dropped the oldest unconfirmed records'
          : 'spool full: rejected new records'
    this.logger.warn({ reason, dropped, droppedTotal: this.counts[reason], ...detail }, msg)
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
