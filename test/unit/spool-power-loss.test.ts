/**
 * The disk spool against power loss. A fixed workload (appends in concurrent groups, so group commits;
 * tiny segments, so rollovers; reads and commits, so commit-point writes and segment deletion) runs
 * over the power-loss IO layer (test/support/power-loss-io.ts), once per crash point: the power is cut
 * at the 1st IO call, then the 2nd, ... until the workload finishes before the cut. After each cut the
 * directory is reduced to what survives and the spool is opened again with real IO.
 *
 * With `fsync: always`: the spool opens, every record acknowledged (append resolved with
 * waitDurable) and not committed is read back, and every record read back is one that was appended
 * (nothing corrupt, nothing invented, seq increasing). The same sweep must FAIL for a spool whose
 * fsync lies (acknowledging before the data is durable) and for one that skips directory fsyncs:
 * otherwise the model proves nothing. `interval` and `never` are swept too and their losses printed.
 */
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { silentLogger } from '../../src/observability/logger.js'
import { DiskSpool } from '../../src/spool/disk-spool.js'
import type { FsyncPolicy } from '../../src/spool/spool.js'
import type { SpooledRecord } from '../../src/record.js'
import { PowerLossIo, type PowerLossOptions } from '../support/power-loss-io.js'
import { makeRecord } from './spool-contract.js'

const ROUNDS = 6
const GROUP = 5 // appends in flight together: one group commit covers several
const SEGMENT_BYTES = 512 // a few records per segment: rollovers in every round
const READ_TIMEOUT_MS = 2000 // a read that should find records waits at most this long

const root = await mkdtemp(join(tmpdir(), 'edgebridge-power-loss-'))
after(async () => {
  await rm(root, { recursive: true, force: true })
})

let runs = 0
async function freshDir(): Promise<string> {
  const dir = join(root, String(runs++))
  await mkdir(dir)
  return dir
}

/** Like AbortSignal.timeout, but its timer keeps the process alive while a read waits on it. */
function timeout(ms: number): AbortSignal {
  const ac = new AbortController()
  setTimeout(() => ac.abort(), ms)
  return ac.signal
}

/** The payload says which record it is (makeRecord(i)); anything else is corrupt. */
function indexOf(r: SpooledRecord): number {
  const m = /^payload-(\d+)-x*$/.exec(r.payload.toString())
  if (m === null) throw new Error(`corrupt payload at seq ${r.seq}`)
  const i = Number(m[1])
  const want = makeRecord(i)
  if (r.topic !== want.topic || r.clientId !== want.clientId || !r.payload.equals(want.payload)) {
    throw new Error(`record at seq ${r.seq} does not match what was appended`)
  }
  return i
}

interface Outcome {
  /** The workload ran to its end before the cut point was reached. */
  finished: boolean
  /** seq -> record index, for every append acknowledged before the cut. */
  acked: Map<number, number>
  /** Highest seq the workload committed before the cut. */
  committed: number
}

async function workload(dir: string, io: PowerLossIo, fsync: FsyncPolicy): Promise<Outcome> {
  const acked = new Map<number, number>()
  let committed = 0
  let spool: DiskSpool | undefined
  try {
    spool = await DiskSpool.open({
      dir,
      fsync,
      fsyncIntervalMs: 2,
      segmentBytes: SEGMENT_BYTES,
      diskFullRetryMs: 5,
      commitIntervalMs: 0, // every commit writes the commit point (in the background): more to cut
      io,
      logger: silentLogger(),
    })
    let next = 0
    for (let round = 0; round < ROUNDS && !io.cut; round++) {
      const group: Promise<unknown>[] = []
      for (let k = 0; k < GROUP; k++) {
        const i = next++
        group.push(
          spool.append(makeRecord(i), { waitDurable: true }).then((seq) => {
            if (!io.cut) acked.set(seq, i)
          }),
        )
      }
      // Under the default `block`, appends that arrive while writes fail wait for the disk: held, never acked.
      await Promise.race([Promise.allSettled(group), io.whenCut])
      if (round % 2 === 1 && !io.cut) {
        const got = await spool.read({ maxRecords: GROUP + 2, maxBytes: 1 << 20 }, timeout(READ_TIMEOUT_MS))
        const last = got[got.length - 1]
        if (last !== undefined) {
          // The core confirmed them: from this call on they may be gone, whether or not it completes.
          committed = last.seq
          await spool.commit(last.seq)
          await new Promise((res) => setTimeout(res, 5)) // let the commit-point write run
        }
      }
    }
    // `interval` acknowledges before its fsync; give its timer the time to run once.
    if (fsync === 'interval' && !io.cut) await new Promise((res) => setTimeout(res, 10))
  } catch {
    // the cut came during open (or a read): nothing more was acknowledged
  }
  const finished = !io.cut
  await spool?.close().catch(() => undefined)
  return { finished, acked, committed }
}

async function readBack(dir: string): Promise<SpooledRecord[]> {
  const spool = await DiskSpool.open({ dir, segmentBytes: SEGMENT_BYTES, logger: silentLogger() })
  const out: SpooledRecord[] = []
  try {
    while (true) {
      const got = await spool.read({ maxRecords: 1000, maxBytes: 1 << 20 }, timeout(50))
      if (got.length === 0) break
      out.push(...got)
    }
  } finally {
    await spool.close()
  }
  return out
}

interface SweepResult {
  crashPoints: number
  /** Acknowledged, uncommitted records summed over every crash point. */
  ackedAtCut: number
  /** Of those, how many were not read back after the power loss. */
  lost: number
  /** Crash points that lost at least one acknowledged record. */
  crashPointsWithLoss: number
  /** The crash points that lost acknowledged records: call number and kind. */
  lossAt: string[]
  /** IO calls by kind in the run that finished (the whole workload). */
  kinds: Map<string, number>
  /** First problem other than loss (corrupt record, spool would not open), if any. */
  broken: string | undefined
}

async function sweep(fsync: FsyncPolicy, layer: Omit<PowerLossOptions, 'cutAt'> = {}): Promise<SweepResult> {
  const r: SweepResult = {
    crashPoints: 0,
    ackedAtCut: 0,
    lost: 0,
    crashPointsWithLoss: 0,
    broken: undefined,
    kinds: new Map(),
    lossAt: [],
  }
  for (let cutAt = 1; ; cutAt++) {
    const dir = await freshDir()
    const io = await PowerLossIo.watch(dir, { ...layer, cutAt })
    const outcome = await workload(dir, io, fsync)
    if (outcome.finished) {
      r.kinds = io.kinds
      break
    }
    r.crashPoints++
    await io.powerLoss()
    let back: SpooledRecord[]
    try {
      back = await readBack(dir)
    } catch (err) {
      r.broken ??= `cut at call ${cutAt}: the spool did not open: ${(err as Error).message}`
      continue
    }
    const found = new Map<number, number>()
    let prev = 0
    for (const rec of back) {
      try {
        found.set(rec.seq, indexOf(rec))
      } catch (err) {
        r.broken ??= `cut at call ${cutAt}: ${(err as Error).message}`
      }
      if (rec.seq <= prev) r.broken ??= `cut at call ${cutAt}: seq ${rec.seq} after ${prev}`
      prev = rec.seq
    }
    let lostHere = 0
    for (const [seq, i] of outcome.acked) {
      if (seq <= outcome.committed) continue
      r.ackedAtCut++
      if (found.get(seq) !== i) lostHere++
    }
    r.lost += lostHere
    if (lostHere > 0) {
      r.crashPointsWithLoss++
      r.lossAt.push(`${cutAt} (${io.cutCall ?? '?'}: ${lostHere} lost)`)
    }
    if (cutAt > 10_000) throw new Error('the workload never finished')
  }
  return r
}

function summary(name: string, r: SweepResult): string {
  return (
    `${name}: ${r.crashPoints} crash points (${[...r.kinds].map(([k, n]) => `${n} ${k}`).join(', ')}), ${r.ackedAtCut} acknowledged uncommitted records at the cuts, ` +
    `${r.lost} lost (at ${r.crashPointsWithLoss} crash points${r.lossAt.length > 0 ? `: ${r.lossAt.slice(0, 8).join(', ')}` : ''})` +
    (r.broken === undefined ? '' : `; broken: ${r.broken}`)
  )
}

describe('spool power loss', () => {
  it('spool power loss - fsync always: every acknowledged record survives a cut at any IO call', async (t) => {
    const r = await sweep('always')
    t.diagnostic(summary('always', r))
    assert.ok(r.crashPoints > 50, `the sweep covers the workload's IO calls (${r.crashPoints})`)
    assert.ok(r.ackedAtCut > 0, 'acknowledged records were at stake')
    // The workload exercises appends, group commits, rollover, commit-point writes and deletion.
    for (const kind of ['open', 'write', 'fsync', 'rename', 'unlink', 'syncDir']) {
      assert.ok((r.kinds.get(kind) ?? 0) > 0, `the workload makes ${kind} calls`)
    }
    assert.ok((r.kinds.get('unlink') ?? 0) > 1, 'segments are deleted (not only the stale commit.tmp)')
    assert.equal(r.broken, undefined)
    assert.equal(r.lost, 0)
  })

  it('spool power loss - fsync always with torn writes: no corrupt record, nothing acknowledged lost', async (t) => {
    const r = await sweep('always', { torn: true })
    t.diagnostic(summary('always, torn writes', r))
    assert.equal(r.broken, undefined)
    assert.equal(r.lost, 0)
  })

  it('spool power loss - the sweep catches a spool that acknowledges before its fsync', async (t) => {
    const r = await sweep('always', { fsyncLies: true })
    t.diagnostic(summary('always, fsync lies (broken)', r))
    assert.ok(r.lost > 0, 'acknowledged records lost when fsync makes nothing durable')
  })

  it('spool power loss - the sweep catches a spool that skips its directory fsyncs', async (t) => {
    const r = await sweep('always', { dirSyncLies: true })
    t.diagnostic(summary('always, directory fsyncs skipped (broken)', r))
    assert.ok(r.lost > 0, 'acknowledged records lost when new segments are not in the directory')
  })

  it('spool power loss - interval and never: what they lose, reported; the spool still opens clean', async (t) => {
    for (const fsync of ['interval', 'never'] as const) {
      const r = await sweep(fsync)
      t.diagnostic(summary(fsync, r))
      assert.equal(r.broken, undefined, `${fsync}: opens, nothing corrupt`)
      if (fsync === 'never') assert.ok(r.lost > 0, 'never: acknowledged records are lost to a power cut')
    }
  })
})
