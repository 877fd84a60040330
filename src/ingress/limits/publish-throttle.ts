/**
 * Per-client publish limits, applied inside aedes' authorizePublish. A client over its limit is
 * slowed, not dropped: `acquire()` resolves late, aedes does not read the client's next packets from
 * the socket until the current ones are done (lib/client.js nextBatch), and TCP flow control pushes
 * back on the device. Nothing is lost and order is kept.
 *
 * - Rate: a token bucket per client (`ratePerSecond`, `burst`).
 * - In-flight: at most `maxInflight` publishes per client between acquire and release (QoS 1 has no
 *   broker-side cap in aedes; its maxInflightInbound covers QoS 2 only). Waiters are served in order.
 */
import { systemClock, type Clock } from './clock.js'
import { TokenBucket } from './token-bucket.js'

export interface PublishThrottleOptions {
  /** 0 = no rate limit. */
  ratePerSecond: number
  publishBurst: number
  /** 0 = no in-flight limit. */
  maxInflight: number
}

interface State {
  bucket: TokenBucket | null
  inflight: number
  waiters: Array<() => void>
}

export type Release = () => void

export class PublishThrottle {
  private readonly states = new WeakMap<object, State>()
  private readonly timers = new Set<unknown>()
  private readonly wakers = new Set<() => void>()
  private delayedCount = 0
  private closed = false

  constructor(
    private readonly options: PublishThrottleOptions,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Publishes currently held back by the rate limit (for tests and metrics). */
  get delayed(): number {
    return this.delayedCount
  }

  /**
   * Waits until `client` may publish one more message; call the returned function once that
   * publish is finished (acknowledged or refused).
   */
  async acquire(client: object): Promise<Release> {
    const state = this.state(client)
    if (state.bucket) {
      const waitMs = state.bucket.reserve(this.clock.now())
      if (waitMs > 0 && !this.closed) await this.sleep(waitMs)
    }
    if (this.options.maxInflight > 0 && state.inflight >= this.options.maxInflight) {
      await new Promise<void>((resolve) => state.waiters.push(resolve))
    } else {
      state.inflight++
    }
    let released = false
    return () => {
      if (released) return
      released = true
      const next = state.waiters.shift()
      // The slot passes straight to the next waiter, so the count never drops below the cap in between.
      if (next) next()
      else state.inflight--
    }
  }

  /** Cancels pending rate-limit waits (they resolve at once) so shutdown is not held up. */
  close(): void {
    this.closed = true
    for (const t of this.timers) this.clock.clearTimeout(t)
    this.timers.clear()
    for (const wake of this.wakers) wake()
    this.wakers.clear()
  }

  private sleep(ms: number): Promise<void> {
    this.delayedCount++
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        this.timers.delete(handle)
        this.wakers.delete(wake)
        this.delayedCount--
        resolve()
      }
      const handle = this.clock.setTimeout(wake, ms)
      this.timers.add(handle)
      this.wakers.add(wake)
    })
  }

  private state(client: object): State {
    let s = this.states.get(client)
    if (!s) {
      s = {
        bucket:
          this.options.ratePerSecond > 0
            ? new TokenBucket(
                this.options.ratePerSecond,
                this.options.publishBurst || this.options.ratePerSecond,
                this.clock.now(),
              )
            : null,
        inflight: 0,
        waiters: [],
      }
      this.states.set(client, s)
    }
    return s
  }
}
