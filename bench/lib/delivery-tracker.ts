/**
 * Counts what arrived at the consumer on the core against what was issued: received, duplicates,
 * lost (issued but not received within the grace period), and each first arrival's latency from its
 * scheduled send time. `received` counts first arrivals as they come; `lost` counts, at the end, the
 * sequence numbers never marked as seen: two separate tallies, so a harness that miscounts breaks
 * sent = received + lost instead of hiding in it.
 */
import { nowMs, sleep } from './clock.js'
import { LatencyHistogram } from './histogram.js'
import { decodePayload } from './payload.js'

export interface DeliveryCounts {
  sent: number
  received: number
  lost: number
  duplicates: number
  /** Payloads that were not bench messages of this run (foreign traffic on a shared server). */
  foreign: number
}

export class DeliveryTracker {
  readonly histogram = new LatencyHistogram()
  private seen: Uint8Array
  private received = 0
  private duplicates = 0
  private foreign = 0
  private lastArrivalMs = 0
  private waiter: (() => void) | undefined
  /** Called on each first arrival with its sequence number (e.g. to notice a backlog has drained). */
  onArrival: ((seq: number) => void) | undefined

  /**
   * `expected`: how many messages will be sent (open loop). A closed-loop run does not know it in
   * advance: it passes 0, grows it with `expectMore` as it issues, and the array grows with it.
   */
  constructor(private expected: number) {
    this.seen = new Uint8Array(Math.max(expected, 1024))
  }

  /** A closed-loop sender issued `count` more messages (sequence numbers continue from the last). */
  expectMore(count: number): void {
    this.expected += count
    if (this.expected > this.seen.length) {
      const grown = new Uint8Array(Math.max(this.expected, this.seen.length * 2))
      grown.set(this.seen)
      this.seen = grown
    }
  }

  /** Whether sequence number `seq` has arrived. */
  has(seq: number): boolean {
    return this.seen[seq] === 1
  }

  /** When the latest first arrival happened, on the bench clock (0 before any). */
  get lastArrival(): number {
    return this.lastArrivalMs
  }

  /** Called by a core consumer for every message it receives. */
  onPayload(payload: Uint8Array): void {
    const arrived = nowMs()
    const decoded = decodePayload(payload)
    if (decoded === undefined || decoded.seq >= this.expected) {
      this.foreign++
      return
    }
    if (this.seen[decoded.seq] === 1) {
      this.duplicates++
      return
    }
    this.seen[decoded.seq] = 1
    this.received++
    this.lastArrivalMs = arrived
    this.histogram.recordMs(arrived - decoded.scheduledMs)
    this.onArrival?.(decoded.seq)
    if (this.received === this.expected) this.waiter?.()
  }

  get receivedCount(): number {
    return this.received
  }

  /**
   * Resolves once every expected message arrived, or once `graceMs` passed without any arrival (a
   * slow drain keeps the wait going, a dead one ends it).
   */
  async waitForAll(graceMs: number, signal?: AbortSignal): Promise<void> {
    const start = nowMs()
    while (this.received < this.expected && signal?.aborted !== true) {
      const quietFor = nowMs() - Math.max(start, this.lastArrivalMs)
      if (quietFor >= graceMs) return
      await Promise.race([
        sleep(Math.min(100, graceMs - quietFor)),
        new Promise<void>((res) => (this.waiter = res)),
      ])
      this.waiter = undefined
    }
  }

  counts(): DeliveryCounts {
    let lost = 0
    for (let seq = 0; seq < this.expected; seq++) if (this.seen[seq] !== 1) lost++
    return {
      sent: this.expected,
      received: this.received,
      lost,
      duplicates: this.duplicates,
      foreign: this.foreign,
    }
  }
}
