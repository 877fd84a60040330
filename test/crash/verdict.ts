/**
 * The verdict of a crash or outage run: did every message a device was told is safe reach the core, in
 * each device's order?
 *
 * - lost: acknowledged (PUBACK received) but absent at the core. Must be 0: that is the promise.
 * - order: per device, the first occurrence of each sequence number at the core comes in increasing
 *   order. Later occurrences are duplicates (at-least-once: a device re-sends what it had no PUBACK for,
 *   a batch the core stored but could not confirm is sent again) and do not count against order.
 * - duplicates: arrivals beyond the first of the same (device, seq); counted and printed, allowed.
 */
import type { Arrival } from './core-collectors.js'

export interface Verdict {
  acknowledged: number
  arrived: number
  lost: number
  duplicates: number
  /** Devices whose first occurrences went backwards, with the first place it happened. */
  orderViolations: string[]
  /** A few of the lost (device, seq), for the failure message. */
  lostExamples: string[]
  /** Arrivals that are not a fleet message at all (another writer on the same core name: a test bug). */
  foreign: number
}

export function judge(acknowledged: Map<number, number[]>, arrivals: readonly Arrival[]): Verdict {
  const seen = new Map<number, Set<number>>()
  const lastFirst = new Map<number, number>()
  const orderViolations: string[] = []
  let duplicates = 0
  let foreign = 0
  for (const a of arrivals) {
    if (!Number.isInteger(a.d) || !Number.isInteger(a.s)) {
      foreign++
      continue
    }
    let set = seen.get(a.d)
    if (set === undefined) seen.set(a.d, (set = new Set()))
    if (set.has(a.s)) {
      duplicates++
      continue
    }
    set.add(a.s)
    const previous = lastFirst.get(a.d) ?? -1
    if (a.s < previous && orderViolations.length < 10) {
      orderViolations.push(`device ${a.d}: seq ${a.s} arrived first after seq ${previous}`)
    }
    lastFirst.set(a.d, Math.max(previous, a.s))
  }
  let ackedTotal = 0
  let lost = 0
  const lostExamples: string[] = []
  for (const [device, seqs] of acknowledged) {
    ackedTotal += seqs.length
    const set = seen.get(device)
    for (const s of seqs) {
      if (set?.has(s) === true) continue
      lost++
      if (lostExamples.length < 10) lostExamples.push(`device ${device} seq ${s}`)
    }
  }
  return {
    acknowledged: ackedTotal,
    arrived: arrivals.length,
    lost,
    duplicates,
    orderViolations,
    lostExamples,
    foreign,
  }
}

/** The one-line summary every crash test prints. */
export function summary(label: string, v: Verdict, extra: Record<string, string | number> = {}): string {
  const fields = Object.entries(extra).map(([k, val]) => `${k}=${val}`)
  return [
    `${label}:`,
    ...fields,
    `acknowledged=${v.acknowledged}`,
    `arrived=${v.arrived}`,
    `lost=${v.lost}`,
    `duplicates=${v.duplicates}`,
    `orderViolations=${v.orderViolations.length}`,
  ].join(' ')
}
