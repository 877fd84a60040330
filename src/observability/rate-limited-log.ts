/**
 * Logs the first event of a kind at once, then at most one line per interval with the count of
 * events suppressed since: a flood (a full spool, a misrouted device) stays visible without filling
 * the journal.
 */
import type { Logger } from './logger.js'

export class RateLimitedLog {
  private lastAt = -Infinity
  private suppressed = 0

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    const now = Date.now()
    if (now - this.lastAt < this.intervalMs) {
      this.suppressed++
      return
    }
    this.logger.warn({ ...fields, suppressed: this.suppressed }, message)
    this.lastAt = now
    this.suppressed = 0
  }
}
