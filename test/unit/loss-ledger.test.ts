/**
 * The loss ledger (src/forwarder/loss-ledger.ts): every seq the gateway gives up on is in it, with its
 * reason, whatever path gave it up (drop-oldest, a corrupt spool frame, a dead letter); a torn last line
 * does not stop it being read.
 */
import assert from 'node:assert/strict'
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { DeadLetterFile } from '../../src/forwarder/dead-letter.js'
import {
  LOSS_LEDGER_FILE,
  LossLedger,
  readLossLedger,
  type LossEntry,
} from '../../src/forwarder/loss-ledger.js'
import { silentLogger } from '../../src/observability/logger.js'
import type { SpooledRecord } from '../../src/record.js'
import { DiskSpool } from '../../src/spool/disk-spool.js'
import { SEGMENT_HEADER_BYTES } from '../../src/spool/segment.js'
import { capturingLogger, drain, makeRecord } from './spool-contract.js'

const dirs: string[] = []
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'edgebridge-ledger-'))
  dirs.push(dir)
  return dir
}

async function entries(path: string): Promise<LossEntry[]> {
  const out: LossEntry[] = []
  await readLossLedger(path, (e) => out.push(e))
  return out
}

/** The seqs 1..last that are neither in `read` nor in a ledger range. */
function unexplained(last: number, read: SpooledRecord[], ledger: LossEntry[]): number[] {
  const seen = new Set(read.map((r) => r.seq))
  const missing: number[] = []
  for (let s = 1; s <= last; s++) {
    if (seen.has(s)) continue
    if (
      ledger.some((e) => e.fromSeq !== undefined && e.toSeq !== undefined && e.fromSeq <= s && s <= e.toSeq)
    )
      continue
    missing.push(s)
  }
  return missing
}

describe('loss ledger', () => {
  it('loss ledger - folds adjacent drops into one line and reads back what it wrote', async () => {
    const path = join(await tempDir(), LOSS_LEDGER_FILE)
    const ledger = new LossLedger(path, 'gw-1', silentLogger())
    await Promise.all([
      ledger.record({ reason: 'drop-oldest', count: 10, fromSeq: 1, toSeq: 10 }),
      ledger.record({ reason: 'drop-oldest', count: 5, fromSeq: 11, toSeq: 15 }),
      ledger.record({ reason: 'drop-newest', count: 1, clientId: 'dev-1', topic: 't' }),
      ledger.record({ reason: 'drop-newest', count: 1, clientId: 'dev-2', topic: 't' }),
      ledger.record({ reason: 'drop-oldest', count: 1, fromSeq: 40, toSeq: 40 }),
    ])
    await ledger.close()
    await ledger.close()
    const got = await entries(path)
    // The first record() starts a write of its line alone; the rest are folded while it is in flight.
    const total = got.reduce((n, e) => n + e.count, 0)
    assert.equal(total, 18)
    assert.ok(got.length <= 5, `${got.length} lines`)
    assert.ok(got.every((e) => e.gatewayId === 'gw-1' && e.v === 1 && typeof e.at === 'string'))
    const ranges = got.filter((e) => e.reason === 'drop-oldest').map((e) => [e.fromSeq, e.toSeq])
    assert.deepEqual(ranges.at(-1), [40, 40])
    assert.equal(
      ranges.reduce((n, [a, b]) => n + (b! - a! + 1), 0),
      16,
    )
  })

  it('loss ledger - a torn last line is skipped, a damaged line in the middle is counted', async () => {
    const path = join(await tempDir(), LOSS_LEDGER_FILE)
    const good = JSON.stringify({
      v: 1,
      at: 'x',
      gatewayId: 'g',
      reason: 'corrupt',
      count: 1,
      fromSeq: 3,
      toSeq: 3,
    })
    await writeFile(path, `${good}\nnot json\n${good}\n{"v":1,"at":"x","gatew`)
    const got: LossEntry[] = []
    const result = await readLossLedger(path, (e) => got.push(e))
    assert.equal(got.length, 2)
    assert.deepEqual(result, { damagedLines: 1, tornTail: true })
  })

  it('loss ledger - a ledger it cannot write is logged once, then summarized: not one line per loss', async () => {
    const dir = await tempDir()
    const path = join(dir, LOSS_LEDGER_FILE)
    await mkdir(path) // a directory where the file should be: every write fails
    const { logger, lines } = capturingLogger()
    const ledger = new LossLedger(path, 'gw-test', logger, 60_000)
    for (let i = 0; i < 5; i++) await ledger.onDrop({ reason: 'drop-newest', count: 1 })
    const failed = () => lines.filter((l) => String(l.msg).startsWith('could not write the loss ledger'))
    assert.equal(failed().length, 1)
    await ledger.close()
    assert.deepEqual(
      failed().map((l) => l.count),
      [1, 4],
    )
  })

  it('loss ledger - a missing file rejects with ENOENT', async () => {
    const path = join(await tempDir(), 'nothing.jsonl')
    await assert.rejects(
      readLossLedger(path, () => undefined),
      { code: 'ENOENT' },
    )
  })

  it('loss ledger - every seq the disk spool drops (drop-oldest) is in a ledger range', async () => {
    const dir = await tempDir()
    const ledger = new LossLedger(join(dir, LOSS_LEDGER_FILE), 'gw-test', silentLogger())
    const spool = await DiskSpool.open({
      dir: join(dir, 'spool'),
      maxBytes: 4096,
      whenFull: 'drop-oldest',
      segmentBytes: 2048,
      logger: silentLogger(),
      onDrop: ledger.onDrop,
    })
    const total = 300
    for (let i = 0; i < total; i++) await spool.append(makeRecord(i), { waitDurable: true })
    const read = await drain(spool)
    await spool.close()
    await ledger.close()
    const ledgerEntries = await entries(ledger.path)
    const dropped = spool.stats().drops['drop-oldest']
    assert.ok(dropped > 0, 'the spool dropped records')
    assert.equal(
      ledgerEntries.filter((e) => e.reason === 'drop-oldest').reduce((n, e) => n + e.count, 0),
      dropped,
    )
    assert.deepEqual(unexplained(total, read, ledgerEntries), [])
  })

  it('loss ledger - seqs lost to a corrupt spool frame are in a ledger range', async () => {
    const dir = await tempDir()
    const spoolDir = join(dir, 'spool')
    const first = await DiskSpool.open({ dir: spoolDir, segmentBytes: 1 << 20, logger: silentLogger() })
    const total = 50
    for (let i = 0; i < total; i++) await first.append(makeRecord(i), { waitDurable: true })
    await first.close()
    // Flip bytes in the middle of the only segment: a few frames fail their CRC.
    const [segment] = (await readdir(spoolDir)).filter((f) => f.endsWith('.seg'))
    const path = join(spoolDir, segment!)
    const bytes = await readFile(path)
    const mid = SEGMENT_HEADER_BYTES + Math.floor((bytes.length - SEGMENT_HEADER_BYTES) / 2)
    for (let i = 0; i < 400; i++) bytes[mid + i] = bytes[mid + i]! ^ 0xff
    await writeFile(path, bytes)

    const ledger = new LossLedger(join(dir, LOSS_LEDGER_FILE), 'gw-test', silentLogger())
    const second = await DiskSpool.open({
      dir: spoolDir,
      segmentBytes: 1 << 20,
      logger: silentLogger(),
      onDrop: ledger.onDrop,
    })
    const read = await drain(second)
    await second.commit(read.at(-1)!.seq)
    await second.close()
    await ledger.close()
    assert.ok(read.length < total - 2, `several records were lost to the damage (${total - read.length})`)
    const ledgerEntries = await entries(ledger.path)
    assert.ok(ledgerEntries.some((e) => e.reason === 'corrupt'))
    assert.deepEqual(unexplained(total, read, ledgerEntries), [])
  })

  it('loss ledger - a dead-lettered record is in the ledger with its seq', async () => {
    const dir = await tempDir()
    const ledger = new LossLedger(join(dir, LOSS_LEDGER_FILE), 'gw-test', silentLogger())
    const deadLetter = new DeadLetterFile(join(dir, 'dead-letter.jsonl'), ledger)
    await deadLetter.put({ ...makeRecord(1), seq: 77 }, 'message too large')
    await ledger.close()
    const [entry] = await entries(ledger.path)
    assert.equal(entry?.reason, 'dead-letter')
    assert.equal(entry?.fromSeq, 77)
    assert.equal(entry?.toSeq, 77)
    assert.equal(entry?.cause, 'message too large')
    // The ledger is append-only: a second ledger on the same file adds to it.
    const again = new LossLedger(ledger.path, 'gw-test', silentLogger())
    await again.record({ reason: 'drop-newest', count: 2 })
    await again.close()
    await appendFile(ledger.path, '')
    assert.equal((await entries(ledger.path)).length, 2)
  })
})
