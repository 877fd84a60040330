/**
 * A token bucket that lends ahead: `reserve()` always takes a token and says how long the caller must
 * wait until that token would have existed. Concurrent callers therefore queue up in order, each
 * 1/rate behind the previous, instead of racing for the next refill.
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

  /** Takes one token; returns 0 if it was there, else the milliseconds until it will be. */
  reserve(now: number): number {
    this.refill(now)
    this.tokens -= 1
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
