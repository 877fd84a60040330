/**
 * Admission to the disk spool: whether an append may enter now, and how much the spool holds.
 *
 * Invariants:
 * - `bytes` (the frames of the records appended and not yet confirmed or dropped) stays within
 *   `maxBytes`, except that one record larger than that is admitted into an empty spool, so a huge
 *   record can never wedge a `block` spool.
 * - Appends that wait for room are admitted strictly in arrival order (a small record never
 *   overtakes a big one that came first), and seq is assigned at admission, so seq order is FIFO
 *   order under back-pressure too.
 * - While the disk fails nothing is admitted: the policy (`whenFull`) decides what the append meets.
 *   `block` waits; `drop-newest` rejects with SpoolFullError; `drop-oldest` waits while the oldest
 *   records are dropped (counted) until the new one fits.
 */
import { SpoolFullError } from '../errors.js'
import type { DropReporter } from './drop-reporter.js'
import type { RecordInput } from '../record.js'
import type { WhenFull } from './spool.js'
import { SpaceQueue } from './waiters.js'

/** An append on its way in. */
export interface PendingAppend {
  record: RecordInput
  /** Its frame's size on disk: what it counts against maxBytes. */
  size: number
  /** Assigned at admission. */
  seq: number
  /** The caller waits for durability (QoS 1 and 2). */
  durable: boolean
  /** Settles when the record is durable (durable appends only), set at admission. */
  done?: Promise<void>
}

export interface AdmissionOptions {
  maxBytes: number
  whenFull: WhenFull
  drops: DropReporter
  /** The writer's last write failed (the disk is full or failing). */
  diskFailing(): boolean
  /** Give the admitted record its seq and queue it for writing. */
  admit(append: PendingAppend): void
  /** drop-oldest: drop the oldest records, at least `needBytes` of them; false if none could go now. */
  dropOldest(needBytes: number): Promise<boolean>
  /** drop-oldest on a full disk: drop the oldest whole segment to free real space; false if none. */
  dropOldestSegment(): Promise<boolean>
}

export class Admission {
  /** Records in the spool: appended, not yet confirmed or dropped. */
  records = 0
  /** Frame bytes of those records, what `maxBytes` bounds. */
  bytes = 0
  /** receivedAt of the oldest record in the spool, when known (after a restart, once read). */
  oldestReceivedAt: number | undefined
  /** Appends waiting for room, oldest first. */
  private readonly waiting = new SpaceQueue<PendingAppend>()
  /** The drop-oldest loop is running (one at a time). */
  private dropping = false
  private closed = false

  constructor(private readonly o: AdmissionOptions) {}

  /** Admit the append now if it may enter at once (nobody waits and it fits); false otherwise. */
  tryEnter(append: PendingAppend): boolean {
    if (this.waiting.length > 0 || !this.fits(append.size)) return false
    this.o.admit(append)
    return true
  }

  /** Resolves once the append is admitted; rejects when it is refused (drop-newest) or abandoned. */
  async enter(append: PendingAppend, signal?: AbortSignal): Promise<void> {
    if (this.tryEnter(append)) return
    if (this.o.whenFull === 'drop-newest') {
      this.o.drops.drop('drop-newest', 1, { topic: append.record.topic, clientId: append.record.clientId })
      throw new SpoolFullError(
        this.o.diskFailing()
          ? 'spool full: no space left on the device; record rejected'
          : `spool full (${this.bytes} of ${this.o.maxBytes} bytes): record rejected`,
      )
    }
    const admitted = this.waiting.wait(append, signal)
    this.wake()
    await admitted
  }

  /** A record entered the spool. */
  added(size: number, receivedAt: number): void {
    if (this.records === 0) this.oldestReceivedAt = receivedAt
    this.records++
    this.bytes += size
  }

  /** Records left the spool (confirmed, dropped, or never written). */
  removed(records: number, bytes: number, everything = false): void {
    this.records = everything ? 0 : Math.max(0, this.records - records)
    this.bytes = everything ? 0 : Math.max(0, this.bytes - bytes)
  }

  /**
   * Room may have been freed, the disk may work again, or the oldest records reached the disk (the
   * dropper reads them from there): admit who fits, and under drop-oldest make room for the rest.
   */
  wake(): void {
    this.waiting.admitWhile(
      (a) => this.fits(a.size),
      (a) => this.o.admit(a),
    )
    if (this.waiting.length > 0 && this.o.whenFull === 'drop-oldest') void this.runDropper()
  }

  /** Refuse every waiting append with `err` (the spool closes). */
  close(err: unknown): void {
    this.closed = true
    this.waiting.failAll(err)
  }

  private fits(size: number): boolean {
    if (this.o.diskFailing()) return false
    return this.records === 0 || this.bytes + size <= this.o.maxBytes
  }

  /** drop-oldest: drop the oldest records until the waiting appends fit. */
  private async runDropper(): Promise<void> {
    if (this.dropping) return
    this.dropping = true
    try {
      while (!this.closed && this.waiting.length > 0) {
        const next = this.waiting.peek()!
        if (this.o.diskFailing()) {
          // The disk is full: only deleting a whole segment frees real space.
          await this.o.dropOldestSegment()
          break
        }
        if (this.fits(next.size)) {
          this.wake()
          continue
        }
        if (!(await this.o.dropOldest(this.bytes + next.size - this.o.maxBytes))) break
      }
    } finally {
      this.dropping = false
    }
  }
}
