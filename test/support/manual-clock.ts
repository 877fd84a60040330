/** A clock that moves only when a test says so, for limits that would otherwise need real waiting. */
import type { Clock } from '../../src/ingress/limits/clock.js'

interface Timer {
  at: number
  fn: () => void
  id: number
}

export class ManualClock implements Clock {
  private t = 0
  private timers: Timer[] = []
  private nextId = 1

  now(): number {
    return this.t
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { at: this.t + Math.max(0, ms), fn, id: this.nextId++ }
    this.timers.push(timer)
    return timer.id
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle)
  }

  get pendingTimers(): number {
    return this.timers.length
  }

  /** Lets promise callbacks and I/O callbacks run. */
  async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
  }

  /** Moves time forward, firing due timers in order and letting their effects run. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id)
      const next = this.timers[0]
      if (!next || next.at > end) break
      this.timers.shift()
      this.t = next.at
      next.fn()
      await this.settle()
    }
    this.t = end
    await this.settle()
  }
}
