/**
 * What the audit learns from one gateway's records at the core, in constant memory over millions of
 * records: the seqs seen are kept as sorted, disjoint ranges (a gap-free run is one range however
 * long), so memory grows with the number of holes, not of records; per device only the highest seq
 * seen is kept.
 *
 * - duplicate: a seq already seen (at-least-once: a batch the core stored but could not confirm was
 *   sent again).
 * - order: per device (client id), each seq seen for the first time must be above every seq seen
 *   for that device before it; one below is a reorder. Duplicates do not count against order.
 * - gaps: the holes between the ranges, from the lowest seq seen to the highest. Seqs below the
 *   lowest (read from a time or an offset, or lost to retention) and above the highest (maybe still
 *   in the gateway's spool) are outside what the audit can judge.
 */

/** Examples kept per kind, for the report. */
const MAX_EXAMPLES = 5

export interface SeqRange {
  from: number
  to: number
}

export class SeqTracker {
  /** Seen seqs: [starts[i], ends[i]], sorted and disjoint, never adjacent (adjacent ranges merge). */
  private readonly starts: number[] = []
  private readonly ends: number[] = []
  private readonly lastPerDevice = new Map<string, number>()
  records = 0
  duplicates = 0
  reorders = 0
  readonly reorderExamples: string[] = []

  constructor(readonly gatewayId: string) {}

  add(seq: number, clientId: string): void {
    this.records++
    if (!this.insert(seq)) {
      this.duplicates++
      return
    }
    const last = this.lastPerDevice.get(clientId)
    if (last !== undefined && seq < last) {
      this.reorders++
      if (this.reorderExamples.length < MAX_EXAMPLES) {
        this.reorderExamples.push(`device ${clientId}: seq ${seq} after seq ${last}`)
      }
      return
    }
    this.lastPerDevice.set(clientId, seq)
  }

  get devices(): number {
    return this.lastPerDevice.size
  }

  /** Distinct seqs seen. */
  get distinct(): number {
    let n = 0
    for (let i = 0; i < this.starts.length; i++) n += this.ends[i]! - this.starts[i]! + 1
    return n
  }

  get lowest(): number | undefined {
    return this.starts[0]
  }

  get highest(): number | undefined {
    return this.ends[this.ends.length - 1]
  }

  /** The holes between what was seen, in seq order. */
  *gaps(): Generator<SeqRange> {
    for (let i = 1; i < this.starts.length; i++)
      yield { from: this.ends[i - 1]! + 1, to: this.starts[i]! - 1 }
  }

  /** Adds `seq` to the ranges; false when it was there already. */
  private insert(seq: number): boolean {
    const n = this.starts.length
    // The common case by far: the next seq of a gap-free run.
    if (n > 0 && seq === this.ends[n - 1]! + 1) {
      this.ends[n - 1] = seq
      return true
    }
    if (n === 0 || seq > this.ends[n - 1]! + 1) {
      this.starts.push(seq)
      this.ends.push(seq)
      return true
    }
    // i: the last range starting at or below seq (-1 when none does).
    let lo = 0
    let hi = n - 1
    let i = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.starts[mid]! <= seq) {
        i = mid
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    if (i >= 0 && seq <= this.ends[i]!) return false
    const joinsLeft = i >= 0 && this.ends[i]! + 1 === seq
    const joinsRight = i + 1 < n && this.starts[i + 1]! - 1 === seq
    if (joinsLeft && joinsRight) {
      this.ends[i] = this.ends[i + 1]!
      this.starts.splice(i + 1, 1)
      this.ends.splice(i + 1, 1)
    } else if (joinsLeft) {
      this.ends[i] = seq
    } else if (joinsRight) {
      this.starts[i + 1] = seq
    } else {
      this.starts.splice(i + 1, 0, seq)
      this.ends.splice(i + 1, 0, seq)
    }
    return true
  }
}

/**
 * Sorted, merged ranges from any list of ranges (the ledger's, which is small: one line per burst of
 * drops), and what of a gap they do not cover.
 */
export class RangeSet {
  private readonly ranges: SeqRange[]

  constructor(ranges: Iterable<SeqRange>) {
    const sorted = [...ranges].sort((a, b) => a.from - b.from)
    const merged: SeqRange[] = []
    for (const r of sorted) {
      const last = merged[merged.length - 1]
      if (last !== undefined && r.from <= last.to + 1) last.to = Math.max(last.to, r.to)
      else merged.push({ ...r })
    }
    this.ranges = merged
  }

  /** The parts of `gap` no range covers. */
  uncovered(gap: SeqRange): SeqRange[] {
    const out: SeqRange[] = []
    let next = gap.from
    for (const r of this.ranges) {
      if (r.to < next) continue
      if (r.from > gap.to) break
      if (r.from > next) out.push({ from: next, to: r.from - 1 })
      next = Math.max(next, r.to + 1)
      if (next > gap.to) break
    }
    if (next <= gap.to) out.push({ from: next, to: gap.to })
    return out
  }
}
