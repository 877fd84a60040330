/**
 * The one way edgebridge logs something that can repeat in a flood (a full spool, a failing disk, a
 * misrouted device): the first event of a quiet spell is logged at once, later ones within the
 * interval are folded into one summary line that a timer writes when the interval ends. So a flood
 * stays visible, the line count is bounded (at most one per interval), and the end of a burst is
 * never left out of the log. `flush()` writes what is folded now (call it on close).
 *
 * Each line carries `countField` (default `count`): how many events it stands for. An event may weigh
 * more than one (a drop of 50 records is one call counting 50). A summary line repeats the fields and
 * message of the last event it folds.
 */
import type { Logger } from './logger.js'

export interface RateLimitedLogOptions {
  /** The field that says how many events a line stands for (default `count`). */
  countField?: string
}

type Level = 'warn' | 'error'

export class RateLimitedLog {
  private readonly countField: string
  /** When the last line was written (ms since the epoch); -Infinity before the first. */
  private lastAt = -Infinity
  /** Events folded since the last line, and the last of them (repeated by the summary line). */
  private folded = 0
  private foldedLine: { level: Level; fields: Record<string, unknown>; message: string } | undefined
  /** Writes the summary at the end of the interval; unref'd, so it never keeps the process up. */
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs: number,
    options: RateLimitedLogOptions = {},
  ) {
    this.countField = options.countField ?? 'count'
  }

  warn(fields: Record<string, unknown>, message: string, count = 1): void {
    this.event('warn', fields, message, count)
  }

  error(fields: Record<string, unknown>, message: string, count = 1): void {
    this.event('error', fields, message, count)
  }

  /** Write the folded events now (a summary line), if any. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    const line = this.foldedLine
    if (line === undefined) return
    this.write(line.level, line.fields, line.message, this.folded)
  }

  private event(level: Level, fields: Record<string, unknown>, message: string, count: number): void {
    if (Date.now() - this.lastAt >= this.intervalMs && this.foldedLine === undefined) {
      this.write(level, fields, message, count)
      return
    }
    this.folded += count
    this.foldedLine = { level, fields, message }
    if (this.timer === undefined) {
      const wait = Math.max(0, this.lastAt + this.intervalMs - Date.now())
      this.timer = setTimeout(() => this.flush(), wait)
      this.timer.unref()
    }
  }

  private write(level: Level, fields: Record<string, unknown>, message: string, count: number): void {
    this.logger[level]({ ...fields, [this.countField]: count }, message)
    this.lastAt = Date.now()
    this.folded = 0
    this.foldedLine = undefined
  }
}
