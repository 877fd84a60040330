/**
 * Damage the spool's files at random (truncation at random offsets, bit flips) and check, for every
 * case, that the spool opens, returns every intact record, never returns a corrupted one, and counts
 * what it lost. Seeded: set SPOOL_CORRUPTION_SEED to replay a failure; the seed is printed.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { silentLogger } from '../../src/observability/logger.js'
import type { RecordInput, SpooledRecord } from '../../src/record.js'
import { DiskSpool } from '../../src/spool/disk-spool.js'
import { checkHeader, frameSeq } from '../../src/spool/frame-codec.js'
import { SEGMENT_HEADER_BYTES } from '../../src/spool/segment.js'
import { drain, makeRecord } from './spool-contract.js'

const CASES = 1000
const seed = Number(process.env.SPOOL_CORRUPTION_SEED ?? Date.now() % 2 ** 31)

/** mulberry32: small, seedable, good enough to pick offsets. */
function prng(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const dirs: string[] = []
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

interface FrameSpan {
  seq: number
  start: number
  end: number
}

function framesOf(file: Buffer): FrameSpan[] {
  const spans: FrameSpan[] = []
  let at = SEGMENT_HEADER_BYTES
  while (at < file.length) {
    const h = checkHeader(file, at, file.length)
    assert.equal(h.kind, 'ok')
    if (h.kind !== 'ok') break
    spans.push({ seq: frameSeq(file, at), start: at, end: at + h.frameBytes })
    at += h.frameBytes
  }
  return spans
}

function sameRecord(got: SpooledRecord, want: RecordInput): boolean {
  return (
    got.payload.equals(want.payload) &&
    got.topic === want.topic &&
    got.clientId === want.clientId &&
    got.username === want.username &&
    got.key === want.key &&
    got.target === want.target &&
    got.gatewayId === want.gatewayId &&
    got.qos === want.qos &&
    got.retain === want.retain &&
    got.receivedAt === want.receivedAt &&
    got.codec === want.codec
  )
}

describe('disk spool corruption', () => {
  it(`disk spool - survives ${CASES} random truncations and bit flips without returning a damaged record`, async () => {
    console.log(`spool corruption seed: ${seed} (replay with SPOOL_CORRUPTION_SEED=${seed})`)
    const rnd = prng(seed)
    const base = await mkdtemp(join(tmpdir(), 'edgebridge-corrupt-base-'))
    const work = await mkdtemp(join(tmpdir(), 'edgebridge-corrupt-'))
    dirs.push(base, work)

    // A pristine spool: several 1 KiB segments, the first 10 records committed.
    const written = new Map<number, RecordInput>()
    const spool = await DiskSpool.open({
      dir: base,
      segmentBytes: 1024,
      fsync: 'never',
      logger: silentLogger(),
    })
    for (let i = 0; i < 60; i++) {
      const rec = makeRecord(i, {
        payload: Buffer.from(Array.from({ length: Math.floor(rnd() * 200) }, () => (rnd() * 256) | 0)),
      })
      written.set(await spool.append(rec, { waitDurable: true }), rec)
    }
    const first = await spool.read({ maxRecords: 10, maxBytes: 1 << 30 })
    const headSeq = first[9]!.seq
    await spool.commit(headSeq)
    await spool.close()

    const files = new Map<string, Buffer>()
    for (const name of await readdir(base)) files.set(name, await readFile(join(base, name)))
    const segNames = [...files.keys()].filter((n) => n.endsWith('.seg')).sort()
    const spans = new Map(segNames.map((n) => [n, framesOf(files.get(n)!)]))
    const uncommitted = [...written.keys()].filter((s) => s > headSeq)
    const names = [...files.keys()]
    const activeName = segNames[segNames.length - 1]!
    let lastTarget = ''

    for (let c = 0; c < CASES; c++) {
      const target = names[Math.floor(rnd() * names.length)]!
      const original = files.get(target)!
      const truncate = rnd() < 0.5
      const offset = Math.floor(rnd() * original.length)
      const bit = Math.floor(rnd() * 8)
      const damaged = truncate ? original.subarray(0, offset) : Buffer.from(original)
      if (!truncate) damaged[offset]! ^= 1 << bit
      const what = `case ${c}: ${truncate ? 'truncate' : `flip bit ${bit}`} ${target} at ${offset} of ${original.length}`

      // Restore what the previous case may have changed (the damaged file, the active segment that
      // recovery truncates, the commit file, deleted segments), then damage this case's target.
      const present = new Set(await readdir(work))
      for (const name of present) if (!files.has(name)) await rm(join(work, name))
      for (const [name, data] of files) {
        if (!present.has(name) || name === lastTarget || name === activeName || name === 'commit') {
          await writeFile(join(work, name), data)
        }
      }
      await writeFile(join(work, target), damaged)
      lastTarget = target
      const s = await DiskSpool.open({
        dir: work,
        segmentBytes: 1024,
        fsync: 'never',
        logger: silentLogger(),
      })
      const got = await drain(s)
      const stats = s.stats()
      await s.close()

      // Never a damaged record, never out of order.
      for (let i = 0; i < got.length; i++) {
        const want = written.get(got[i]!.seq)
        assert.ok(
          want !== undefined && sameRecord(got[i]!, want),
          `${what}: returned a damaged record seq ${got[i]!.seq}`,
        )
        if (i > 0) assert.ok(got[i]!.seq > got[i - 1]!.seq, `${what}: out of order`)
      }
      const gotSeqs = new Set(got.map((r) => r.seq))
      // What may be lost: frames at or after the damage, in the damaged segment only.
      let mayLose = new Set<number>()
      if (target.endsWith('.seg')) {
        const frames = spans.get(target)!
        mayLose = new Set(
          frames
            .filter((f) => (truncate ? f.end > offset : offset >= f.start && offset < f.end))
            .map((f) => f.seq),
        )
      }
      for (const seq of uncommitted) {
        if (!gotSeqs.has(seq)) assert.ok(mayLose.has(seq), `${what}: lost intact record seq ${seq}`)
      }
      const lost = uncommitted.filter((q) => !gotSeqs.has(q))
      if (!truncate && lost.length > 0)
        assert.ok(stats.corruptFramesSkipped > 0, `${what}: lost ${lost} uncounted`)
    }
  })
})
