/**
 * The requests waiting for a device's answer, by request id, bounded in total and per device.
 *
 * - A request id is in the table from the moment the request is admitted until it is answered (by the
 *   device, a timeout, or the gateway stopping); each settles exactly once, so a requester never gets
 *   two answers for one request.
 * - Ids settled by a timeout are remembered (the last `LATE_MEMORY` of them) so an answer arriving
 *   after its timeout is told apart from one that matches nothing at all (a forged or stale id, or
 *   a request from before a gateway restart).
 */
import type { RequestAnswer } from './request-answer.js'

/** How many timed-out ids are remembered to classify late answers. */
const LATE_MEMORY = 10_000

export interface PendingRequest {
  readonly id: string
  readonly device: string
  readonly startedAt: number
  /** Resolved once, with the answer the requester gets. */
  readonly answer: Promise<RequestAnswer>
}

interface Entry extends PendingRequest {
  settle(answer: RequestAnswer): void
  timer: ReturnType<typeof setTimeout> | undefined
}

export type Admission = 'admitted' | 'over-total' | 'over-device'

export class CorrelationTable {
  private readonly pending = new Map<string, Entry>()
  private readonly perDevice = new Map<string, number>()
  private readonly timedOut = new Set<string>()

  constructor(
    /** requests.maxInFlight */
    private readonly maxInFlight: number,
    /** requests.maxInFlightPerDevice */
    private readonly maxPerDevice: number,
  ) {}

  get size(): number {
    return this.pending.size
  }

  get(id: string): PendingRequest | undefined {
    return this.pending.get(id)
  }

  /** Checks the bounds without admitting. */
  check(device: string): Admission {
    if (this.pending.size >= this.maxInFlight) return 'over-total'
    if ((this.perDevice.get(device) ?? 0) >= this.maxPerDevice) return 'over-device'
    return 'admitted'
  }

  /** Adds a request (check() first); `onTimeout` gives its answer after `timeoutMs`. */
  add(id: string, device: string, timeoutMs: number, onTimeout: () => RequestAnswer): PendingRequest {
    let settle!: (answer: RequestAnswer) => void
    const answer = new Promise<RequestAnswer>((resolve) => (settle = resolve))
    const entry: Entry = { id, device, startedAt: performance.now(), answer, settle, timer: undefined }
    entry.timer = setTimeout(() => {
      if (this.settle(id, onTimeout())) this.rememberTimedOut(id)
    }, timeoutMs)
    this.pending.set(id, entry)
    this.perDevice.set(device, (this.perDevice.get(device) ?? 0) + 1)
    return entry
  }

  /** Gives `id` its answer; false when it is not pending (already answered, or never asked). */
  settle(id: string, answer: RequestAnswer): boolean {
    const entry = this.pending.get(id)
    if (entry === undefined) return false
    this.pending.delete(id)
    clearTimeout(entry.timer)
    const left = (this.perDevice.get(entry.device) ?? 1) - 1
    if (left === 0) this.perDevice.delete(entry.device)
    else this.perDevice.set(entry.device, left)
    entry.settle(answer)
    return true
  }

  /** True when `id` was settled by its timeout (recently). */
  timedOutRecently(id: string): boolean {
    return this.timedOut.has(id)
  }

  ids(): string[] {
    return [...this.pending.keys()]
  }

  private rememberTimedOut(id: string): void {
    this.timedOut.add(id)
    if (this.timedOut.size > LATE_MEMORY) {
      const oldest = this.timedOut.values().next().value
      if (oldest !== undefined) this.timedOut.delete(oldest)
    }
  }
}
