/**
 * Paces forwarding to `ratePerSecond` messages (forwarder.replayRateLimit): after an outage a whole
 * fleet of gateways drains its backlog at once, and the core should see a steady stream, not a wall.
 * 0 means unlimited. A token bucket with one second of burst.
 */
import { sleep } from './backoff.js'

export class Pacer {
  private tokens: number
  private last = Date.now()

  constructor(private readonly ratePerSecond: number) {
    this.tokens = ratePerSecond
  }

  /** Waits until `count` messages may go. */
  async take(count: number, signal?: AbortSignal): Promise<void> {
    if (this.ratePerSecond <= 0) return
    this.refill()
    this.tokens -= count
    if (this.tokens >= 0) return
    await sleep(Math.ceil((-this.tokens / this.ratePerSecond) * 1000), signal)
  }

  private refill(): void {
    const now = Date.now()
    this.tokens = Math.min(this.ratePerSecond, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond)
    this.last = now
  }
}
