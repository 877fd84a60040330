/**
 * Paces forwarding to `ratePerSecond` messages (forwarder.replayRateLimit): after an outage a whole
 * fleet of gateways drains its backlog at once, and the core should see a steady stream, not a wall.
 * 0 means unlimited. A token bucket with one second of burst.
 */
import { TokenBucket } from '../ingress/limits/token-bucket.js'
import { sleep } from './backoff.js'

export class Pacer {
  private readonly bucket: TokenBucket | undefined

  constructor(ratePerSecond: number) {
    this.bucket = ratePerSecond > 0 ? new TokenBucket(ratePerSecond, ratePerSecond, Date.now()) : undefined
  }

  /** False when unlimited: take() would never wait. */
  get paces(): boolean {
    return this.bucket !== undefined
  }

  /** Waits until `count` messages may go. */
  async take(count: number, signal?: AbortSignal): Promise<void> {
    if (this.bucket === undefined) return
    const waitMs = this.bucket.reserve(Date.now(), count)
    if (waitMs > 0) await sleep(waitMs, signal)
  }
}
