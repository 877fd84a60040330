/**
 * Progress of a long audit, on stderr and only on a terminal (a pipe or a log gets the report alone):
 * one line rewritten in place, at most every PROGRESS_INTERVAL_MS.
 */
const PROGRESS_INTERVAL_MS = 250 // 4 updates a second

export class Progress {
  private lastAt = 0
  private shown = false

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly expected: number | undefined,
  ) {}

  update(read: number): void {
    if (this.stream.isTTY !== true) return
    const now = Date.now()
    if (now - this.lastAt < PROGRESS_INTERVAL_MS) return
    this.lastAt = now
    const of =
      this.expected === undefined || this.expected === 0
        ? ''
        : ` of ${this.expected} (${Math.min(100, Math.floor((read / this.expected) * 100))}%)`
    this.stream.write(`\raudit: ${read} records read${of}`)
    this.shown = true
  }

  done(): void {
    if (this.shown) this.stream.write('\r\x1b[K')
  }
}
