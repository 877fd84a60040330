/**
 * The audit's seq tracking (src/audit/seq-tracker.ts) against a plain Set-based reference, on seeded
 * random arrivals: seqs missing, sent twice and arriving out of order across devices.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RangeSet, SeqTracker, type SeqRange } from '../../src/audit/seq-tracker.js'

function prng(seed: number): () => number {
  let s = seed
  return () => {
    s = (s + 0x6d2b79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Missing ranges between the lowest and highest of `seen`, the slow obvious way. */
function referenceGaps(seen: Set<number>): SeqRange[] {
  const sorted = [...seen].sort((a, b) => a - b)
  const gaps: SeqRange[] = []
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]! > sorted[i - 1]! + 1) gaps.push({ from: sorted[i - 1]! + 1, to: sorted[i]! - 1 })
  }
  return gaps
}

describe('audit seq tracker', () => {
  it('audit seq tracker - gaps, duplicates and distinct match a Set over seeded random arrivals', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = prng(seed)
      const tracker = new SeqTracker('gw')
      const seen = new Set<number>()
      let duplicates = 0
      // Devices own interleaved seqs; each device's own seqs arrive in order, devices interleave
      // arbitrarily (as partitions do), some seqs never come, some come twice.
      const devices = 1 + Math.floor(random() * 5)
      const queues: number[][] = Array.from({ length: devices }, () => [])
      for (let seq = 1; seq <= 2000; seq++) {
        if (random() < 0.02) continue
        const d = seq % devices
        queues[d]!.push(seq)
        if (random() < 0.01) queues[d]!.push(seq)
      }
      while (queues.some((q) => q.length > 0)) {
        const q = queues[Math.floor(random() * devices)]!
        const seq = q.shift()
        if (seq === undefined) continue
        if (seen.has(seq)) duplicates++
        seen.add(seq)
        tracker.add(seq, `dev-${seq % devices}`)
      }
      assert.deepEqual([...tracker.gaps()], referenceGaps(seen), `seed ${seed}`)
      assert.equal(tracker.duplicates, duplicates, `seed ${seed}`)
      assert.equal(tracker.distinct, seen.size, `seed ${seed}`)
      assert.equal(tracker.reorders, 0, `seed ${seed}: each device's seqs came in order`)
    }
  })

  it('audit seq tracker - a device seq below one already seen for it is a reorder, a repeat is not', () => {
    const tracker = new SeqTracker('gw')
    for (const seq of [1, 2, 4, 3, 4]) tracker.add(seq, 'dev')
    assert.equal(tracker.reorders, 1)
    assert.equal(tracker.duplicates, 1)
    assert.deepEqual([...tracker.gaps()], [])
  })

  it('audit seq tracker - a ledger range set leaves only the uncovered parts of a gap', () => {
    const ledger = new RangeSet([
      { from: 20, to: 25 },
      { from: 10, to: 12 },
      { from: 13, to: 14 },
    ])
    assert.deepEqual(ledger.uncovered({ from: 10, to: 14 }), [])
    assert.deepEqual(ledger.uncovered({ from: 8, to: 30 }), [
      { from: 8, to: 9 },
      { from: 15, to: 19 },
      { from: 26, to: 30 },
    ])
    assert.deepEqual(new RangeSet([]).uncovered({ from: 1, to: 2 }), [{ from: 1, to: 2 }])
  })
})
