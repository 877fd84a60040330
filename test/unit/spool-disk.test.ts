import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { silentLogger } from '../../src/observability/logger.js'
import { DiskSpool, type DiskSpoolOptions } from '../../src/spool/disk-spool.js'
import { frameSize } from '../../src/spool/frame-codec.js'
import { SEGMENT_HEADER_BYTES } from '../../src/spool/segment.js'
import type { SpooledRecord } from '../../src/record.js'
import { waitUntil } from '../support/wait-until.js'
import { capturingLogger, makeRecord, spoolContract } from './spool-contract.js'

const dirs: string[] = []
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'edgebridge-spool-'))
  dirs.push(d)
  return d
}
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

spoolContract('disk spool', {
  create: async ({ maxBytes, whenFull }) => {
    return DiskSpool.open({
      dir: await tempDir(),
      maxBytes,
      whenFull,
      segmentBytes: 4096,
      logger: silentLogger(),
    })
  },
  sizeOf: frameSize,
})

async function openSpool(dir: string, o: Partial<DiskSpoolOptions> = {}): Promise<DiskSpool> {
  return DiskSpool.open({ dir, segmentBytes: 4096, logger: silentLogger(), ...o })
}

const all = { maxRecords: 1_000_000, maxBytes: 1 << 30 }

describe('disk spool', () => {
  it('disk spool - tiny segments roll over, and fully committed segments are deleted', async () => {
    const dir = await tempDir()
    const spool = await openSpool(dir)
    const seqs: number[] = []
    for (let i = 0; i < 300; i++) seqs.push(await spool.append(makeRecord(i), { waitDurable: true }))
    const segs = (await readdir(dir)).filter((n) => n.endsWith('.seg'))
    assert.ok(segs.length > 5, `expected rollover, got ${segs.length} segments`)
    const out = await spool.read(all)
    assert.deepEqual(
      out.map((r) => r.seq),
      seqs,
    )
    const segments = async (): Promise<number> =>
      (await readdir(dir)).filter((n) => n.endsWith('.seg')).length
    // The commit point is written in the background (at most every COMMIT_POINT_INTERVAL_MS), and
    // segments are deleted once it is durable.
    await spool.commit(seqs[250]!)
    await waitUntil(async () => (await segments()) < segs.length, 5000, 'committed segments deleted')
    await spool.commit(seqs[299]!)
    await waitUntil(async () => (await segments()) === 1, 5000, 'all but the active segment deleted')
    await new Promise((r) => setTimeout(r, 300))
    assert.equal(await segments(), 1, 'the active segment stays')
    assert.equal(spool.stats().depthRecords, 0)
    await spool.close()
  })

  it('disk spool - reopen keeps unconfirmed records and seq continues', async () => {
    const dir = await tempDir()
    let spool = await openSpool(dir)
    const seqs: number[] = []
    for (let i = 0; i < 100; i++) seqs.push(await spool.append(makeRecord(i), { waitDurable: true }))
    await spool.read({ maxRecords: 40, maxBytes: 1 << 30 })
    await spool.commit(seqs[39]!)
    await spool.close()

    spool = await openSpool(dir)
    const st = spool.stats()
    assert.equal(st.depthRecords, 60)
    assert.equal(st.committedSeq, seqs[39])
    const out = await spool.read(all)
    assert.deepEqual(
      out.map((r) => r.seq),
      seqs.slice(40),
    )
    out.forEach((r, k) => assert.equal(r.payload.toString(), makeRecord(k + 40).payload.toString()))
    const next = await spool.append(makeRecord(100), { waitDurable: true })
    assert.equal(next, seqs[99]! + 1)
    assert.equal((await spool.read(all)).length, 1)
    await spool.commit(next)
    await spool.close()

    // fully committed, then reopened: seq still continues
    spool = await openSpool(dir)
    assert.equal(spool.stats().depthRecords, 0)
    assert.equal(await spool.append(makeRecord(101), { waitDurable: true }), next + 1)
    await spool.close()
  })

  it('disk spool - records just written reach the reader from memory, not read back from the segment file', async () => {
    const dir = await tempDir()
    const spool = await openSpool(dir, { segmentBytes: 1 << 20 })
    for (let i = 0; i < 5; i++) await spool.append(makeRecord(i), { waitDurable: true })
    // Blank the frames on disk: a reader of the file would find no record there (and count them corrupt).
    const [segment] = (await readdir(dir)).filter((f) => f.endsWith('.seg'))
    const path = join(dir, segment!)
    const bytes = await readFile(path)
    await writeFile(
      path,
      Buffer.concat([
        bytes.subarray(0, SEGMENT_HEADER_BYTES),
        Buffer.alloc(bytes.length - SEGMENT_HEADER_BYTES),
      ]),
    )
    const out = await spool.read(all)
    assert.deepEqual(
      out.map((r) => r.payload.toString()),
      [0, 1, 2, 3, 4].map((i) => makeRecord(i).payload.toString()),
    )
    assert.equal(spool.stats().corruptFramesSkipped, 0)
    await spool.close()
  })

  it('disk spool - a backlog larger than the memory tail is read from the files, in order, nothing twice', async () => {
    const dir = await tempDir()
    const frame = frameSize(makeRecord(0))
    const spool = await openSpool(dir, { tailBytes: frame * 3, segmentBytes: frame * 7 })
    for (let i = 0; i < 40; i++) await spool.append(makeRecord(i), { waitDurable: true })
    const got: SpooledRecord[] = []
    while (got.length < 40) got.push(...(await spool.read({ maxRecords: 6, maxBytes: 1 << 20 })))
    assert.deepEqual(
      got.map((r) => r.payload.toString()),
      Array.from({ length: 40 }, (_, i) => makeRecord(i).payload.toString()),
    )
    assert.deepEqual(
      got.map((r) => r.seq),
      Array.from({ length: 40 }, (_, i) => i + 1),
    )
    // Read while appending: the reader moves from the files to memory and back as the tail allows.
    const more: SpooledRecord[] = []
    for (let i = 40; i < 80; i++) {
      await spool.append(makeRecord(i), { waitDurable: true })
      if (i % 9 === 0) more.push(...(await spool.read({ maxRecords: 4, maxBytes: 1 << 20 })))
    }
    while (more.length < 40) more.push(...(await spool.read(all)))
    assert.deepEqual(
      more.map((r) => r.seq),
      Array.from({ length: 40 }, (_, i) => i + 41),
    )
    await spool.close()
  })

  it('disk spool - commits of records read from memory move the commit point exactly: a reopen reads the rest', async () => {
    const dir = await tempDir()
    const frame = frameSize(makeRecord(0))
    const spool = await openSpool(dir, { segmentBytes: frame * 4, commitIntervalMs: 0 })
    for (let i = 0; i < 10; i++) await spool.append(makeRecord(i), { waitDurable: true })
    const out = await spool.read(all)
    await spool.commit(out[6]!.seq)
    assert.equal(spool.stats().depthRecords, 3)
    assert.equal(
      spool.stats().depthBytes,
      [7, 8, 9].reduce((n, i) => n + frameSize(makeRecord(i)), 0),
    )
    await spool.close()
    const again = await openSpool(dir, { segmentBytes: frame * 4 })
    assert.deepEqual(
      (await again.read(all)).map((r) => r.payload.toString()),
      [7, 8, 9].map((i) => makeRecord(i).payload.toString()),
    )
    await again.close()
  })

  it('disk spool - group commit: many concurrent appends share fewer fsyncs', async () => {
    const dir = await tempDir()
    const spool = await openSpool(dir, { segmentBytes: 1 << 20, fsync: 'always' })
    const n = 200
    const seqs = await Promise.all(
      Array.from({ length: n }, (_, i) => spool.append(makeRecord(i), { waitDurable: true })),
    )
    assert.equal(new Set(seqs).size, n)
    const st = spool.stats()
    assert.ok(st.fsyncCount > 0)
    assert.ok(st.fsyncCount < n / 2, `fsyncs ${st.fsyncCount} for ${n} appends`)
    await spool.close()
  })

  it('disk spool - fsync always waits for an fsync; interval and never do not fsync per append', async () => {
    for (const fsync of ['always', 'interval', 'never'] as const) {
      const dir = await tempDir()
      let fsyncs = 0
      const spool = await openSpool(dir, {
        fsync,
        fsyncIntervalMs: 60_000,
        io: {
          fsync: async (fh) => {
            fsyncs++
            await fh.sync()
          },
        },
      })
      for (let i = 0; i < 5; i++) await spool.append(makeRecord(i), { waitDurable: true })
      assert.equal(fsyncs >= 5, fsync === 'always', `${fsync}: ${fsyncs} fsyncs`)
      await spool.close()
    }
  })

  it('disk spool - ENOSPC under block holds appends and writes them once space returns', async () => {
    const dir = await tempDir()
    let full = false
    let refusedWrites = 0
    const spool = await openSpool(dir, {
      whenFull: 'block',
      diskFullRetryMs: 10,
      io: {
        write: async (fh, data, position) => {
          if (full) {
            refusedWrites++
            throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
          }
          await fh.write(data, 0, data.length, position)
        },
      },
    })
    await spool.append(makeRecord(0), { waitDurable: true })
    full = true
    let settled = 0
    const held = [1, 2, 3].map((i) =>
      spool.append(makeRecord(i), { waitDurable: true }).then((s) => (settled++, s)),
    )
    // Not "nothing happened for a while": the writer tried the disk again and again, and was refused.
    await waitUntil(() => refusedWrites >= 3, 5000, 'the writer to retry the full disk')
    assert.equal(settled, 0)
    // new appends wait too (block), nothing is dropped
    const later = spool.append(makeRecord(4), { waitDurable: true }).then((s) => (settled++, s))
    const refusedBefore = refusedWrites
    await waitUntil(() => refusedWrites >= refusedBefore + 2, 5000, 'more refused retries')
    assert.equal(settled, 0)
    full = false
    const seqs = await Promise.all([...held, later])
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    )
    const out = await spool.read(all)
    assert.deepEqual(
      out.map((r) => r.payload.toString()),
      [0, 1, 2, 3, 4].map((i) => makeRecord(i).payload.toString()),
    )
    assert.deepEqual(spool.stats().drops, { 'drop-oldest': 0, 'drop-newest': 0, corrupt: 0 })
    await spool.close()
    // and what was written survives a reopen intact
    const again = await openSpool(dir)
    assert.equal((await again.read(all)).length, 5)
    await again.close()
  })

  it('disk spool - ENOSPC under drop-newest rejects with SPOOL_FULL, counts, and works again after', async () => {
    const dir = await tempDir()
    let full = false
    const spool = await openSpool(dir, {
      whenFull: 'drop-newest',
      diskFullRetryMs: 10,
      io: {
        write: async (fh, data, position) => {
          if (full) throw Object.assign(new Error('quota exceeded'), { code: 'EDQUOT' })
          await fh.write(data, 0, data.length, position)
        },
      },
    })
    const s0 = await spool.append(makeRecord(0), { waitDurable: true })
    full = true
    await assert.rejects(spool.append(makeRecord(1), { waitDurable: true }), { code: 'SPOOL_FULL' })
    await assert.rejects(spool.append(makeRecord(2), { waitDurable: true }), { code: 'SPOOL_FULL' })
    assert.equal(spool.stats().drops['drop-newest'], 2)
    full = false
    // the writer retries (diskFullRetryMs); then appends succeed again
    let s3 = 0
    for (let tries = 0; tries < 100 && s3 === 0; tries++) {
      await new Promise((r) => setTimeout(r, 10))
      s3 = await spool.append(makeRecord(3), { waitDurable: true }).catch(() => 0)
    }
    assert.ok(s3 > s0)
    const out = await spool.read(all)
    assert.deepEqual(
      out.map((r) => r.payload.toString()),
      [makeRecord(0).payload.toString(), makeRecord(3).payload.toString()],
    )
    await spool.close()
  })

  it('disk spool - a failing fsync refuses the durable append (no PUBACK) instead of claiming it is safe', async () => {
    const dir = await tempDir()
    let fail = false
    const spool = await openSpool(dir, {
      diskFullRetryMs: 10,
      io: {
        fsync: async (fh) => {
          if (fail) throw Object.assign(new Error('input/output error'), { code: 'EIO' })
          await fh.sync()
        },
      },
    })
    fail = true
    await assert.rejects(spool.append(makeRecord(0), { waitDurable: true }))
    fail = false
    assert.ok((await spool.append(makeRecord(1), { waitDurable: true })) > 0)
    await spool.close()
  })

  it('disk spool - a failing disk is logged once, then summarized: not one line per failed write', async () => {
    const dir = await tempDir()
    const { logger, lines } = capturingLogger()
    let failing = false
    let failures = 0
    const spool = await openSpool(dir, {
      logger,
      diskFullRetryMs: 1,
      ioErrorLogIntervalMs: 60_000,
      io: {
        write: async (fh, data, position) => {
          if (failing && failures < 20) {
            failures++
            throw Object.assign(new Error('input/output error'), { code: 'EIO' })
          }
          await fh.write(data, 0, data.length, position)
        },
      },
    })
    const writeFailed = () => lines.filter((l) => String(l.msg).startsWith('spool write failed'))
    failing = true
    await spool.append(makeRecord(0), { waitDurable: false })
    await waitUntil(() => spool.stats().bytesWritten > 0, 10_000, 'the write succeeds after 20 failures')
    assert.equal(writeFailed().length, 1, 'one line at once')
    await spool.close()
    assert.equal(writeFailed().length, 2, 'close writes the summary of the rest')
    assert.equal(writeFailed()[0]!.count, 1)
    assert.equal(writeFailed()[1]!.count, 19)
  })

  it('disk spool - drop-oldest across segments drops whole records and keeps the newest', async () => {
    const dir = await tempDir()
    const size = frameSize(makeRecord(0, { payload: Buffer.alloc(100) }))
    const spool = await openSpool(dir, { whenFull: 'drop-oldest', maxBytes: size * 50 })
    for (let i = 0; i < 200; i++)
      await spool.append(makeRecord(0, { payload: Buffer.alloc(100, i) }), { waitDurable: true })
    const st = spool.stats()
    assert.equal(st.drops['drop-oldest'], 150)
    const out = await spool.read(all)
    assert.equal(out.length, 50)
    assert.deepEqual(
      out.map((r) => r.payload[0]),
      Array.from({ length: 50 }, (_, k) => k + 150),
    )
    await spool.close()
    const again = await openSpool(dir, { whenFull: 'drop-oldest', maxBytes: size * 50 })
    assert.equal((await again.read(all)).length, 50)
    await again.close()
  })

  it('disk spool - a burst of drop-oldest appends issued at once all settle (the dropper wakes once the oldest are written)', async () => {
    // Regression: the dropper reads the oldest records from disk; when a burst filled the spool before
    // the writer had written them, it found nothing, gave up, and the waiting appends hung forever.
    const dir = await tempDir()
    const size = frameSize(makeRecord(0, { payload: Buffer.alloc(100) }))
    const spool = await openSpool(dir, {
      whenFull: 'drop-oldest',
      maxBytes: size * 50,
      segmentBytes: 1 << 20,
    })
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        spool.append(makeRecord(0, { payload: Buffer.alloc(100, i % 256) }), { waitDurable: true }),
      ),
    )
    const st = spool.stats()
    assert.equal(st.drops['drop-oldest'] + st.depthRecords, 500)
    assert.ok(st.depthRecords <= 50)
    await spool.close()
  })
})
