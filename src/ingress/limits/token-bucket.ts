/**
 * The one token bucket (a client's publish rate, the forwarder's replay pace). It lends ahead:
 * `reserve()` always takes its tokens and says how long the caller must wait until they would have
 * existed. Concurrent callers therefore queue up in order, each 1/rate behind the previous, instead
 * of racing for the next refill.
 */
export class TokenBucket {
  private tokens: number
  private last: number

  /** `ratePerSecond` tokens are added per second, up to `burst` (at least 1). */
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError('ratePerSecond must be > 0')
    this.burst = Math.max(1, burst)
    this.tokens = this.burst
    this.last = now
  }

  /** Takes `count` tokens; returns 0 if they were there, else the milliseconds until they will be. */
  reserve(now: number, count = 1): number {
    this.refill(now)
    this.tokens -= count
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.ratePerSecond) * 1000)
  }

  /** Tokens available now (negative while callers wait for reserved ones). */
  available(now: number): number {
    this.refill(now)
    return this.tokens
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond)
      this.last = now
    }
  }
}
