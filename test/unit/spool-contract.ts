/**
 * The Spool contract (src/spool/spool.ts) as one suite, run against every implementation
 * (spool-memory.test.ts, spool-disk.test.ts), the way aedes persistence packages share one abstract suite.
 */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { afterEach, describe, it } from 'node:test'
import { pino } from 'pino'
import { SpoolFullError, type EdgebridgeError } from '../../src/errors.js'
import type { RecordInput, SpooledRecord } from '../../src/record.js'
import type { Spool, WhenFull } from '../../src/spool/spool.js'
import { waitUntil } from '../support/wait-until.js'

export interface SpoolHarness {
  /** A fresh, opened spool. */
  create(options: { maxBytes: number; whenFull: WhenFull }): Promise<Spool>
  /** Bytes the implementation counts against maxBytes for this record. */
  sizeOf(record: RecordInput): number
}

export function makeRecord(i: number, overrides: Partial<RecordInput> = {}): RecordInput {
  return {
    topic: `sensors/dev-${i % 7}/temp`,
    payload: Buffer.from(`payload-${i}-${'x'.repeat(i % 13)}`),
    qos: 1,
    retain: i % 5 === 0,
    clientId: `dev-${i % 7}`,
    username: i % 2 === 0 ? `user-${i % 3}` : undefined,
    gatewayId: 'gw-test',
    receivedAt: 1_700_000_000_000 + i,
    target: `edge.sensors.dev-${i % 7}`,
    key: i % 3 === 0 ? undefined : `key-${i}`,
    codec: 'raw',
    ...overrides,
  }
}

/** Every record the spool returns now, reading until a read finds nothing (it does not wait for more). */
export async function drain(spool: Spool): Promise<SpooledRecord[]> {
  const out: SpooledRecord[] = []
  for (;;) {
    // A timer of our own, not AbortSignal.timeout: that one does not keep the event loop alive.
    const ac = new AbortController()
    const timer = setTimeout(() => ac.abort(), 0)
    const got = await spool.read({ maxRecords: 100_000, maxBytes: 1 << 30 }, ac.signal)
    clearTimeout(timer)
    if (got.length === 0) return out
    out.push(...got)
  }
}

/** A record of fixed size (same string lengths whatever i is), so capacity maths is exact. */
function fixedRecord(i: number): RecordInput {
  const id = String(i).padStart(6, '0')
  return {
    topic: `t/${id}`,
    payload: Buffer.from(`p-${id}`),
    qos: 1,
    retain: false,
    clientId: 'c',
    gatewayId: 'g',
    receivedAt: Date.now(),
    target: 'tgt',
    codec: 'raw',
  }
}

function withoutUndefined(r: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))
}

/** A pino logger whose JSON lines land in an array. */
export function capturingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n'))
        if (l) lines.push(JSON.parse(l) as Record<string, unknown>)
      cb()
    },
  })
  return { logger: pino({ level: 'info' }, sink), lines }
}

const big = { maxBytes: 16 * 1024 * 1024, whenFull: 'block' as const }
const all = { maxRecords: 1_000_000, maxBytes: 1024 * 1024 * 1024 }

export function spoolContract(name: string, harness: SpoolHarness): void {
  describe(`${name} contract`, () => {
    const opened: Spool[] = []
    const create = async (options: { maxBytes: number; whenFull: WhenFull }): Promise<Spool> => {
      const s = await harness.create(options)
      opened.push(s)
      return s
    }
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close()
    })

    it(`${name} - append assigns strictly increasing seq and read returns records in FIFO order, intact`, async () => {
      const spool = await create(big)
      const inputs = Array.from({ length: 50 }, (_, i) => makeRecord(i))
      const seqs: number[] = []
      for (const r of inputs) seqs.push(await spool.append(r, { waitDurable: true }))
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i]! > seqs[i - 1]!)
      const out = await spool.read(all)
      assert.equal(out.length, 50)
      out.forEach((rec, i) => {
        assert.equal(rec.seq, seqs[i])
        const { seq: _seq, ...rest } = rec
        assert.deepEqual(withoutUndefined(rest), withoutUndefined(inputs[i]!))
      })
    })

    it(`${name} - concurrent appends become readable in append order`, async () => {
      const spool = await create(big)
      const inputs = Array.from({ length: 100 }, (_, i) => makeRecord(i))
      const seqs = await Promise.all(inputs.map((r, i) => spool.append(r, { waitDurable: i % 2 === 0 })))
      const out = await spool.read(all)
      assert.deepEqual(
        out.map((r) => r.seq),
        seqs,
      )
      assert.deepEqual(
        out.map((r) => r.payload.toString()),
        inputs.map((r) => r.payload.toString()),
      )
    })

    it(`${name} - read honours maxRecords and maxBytes but always returns at least one record`, async () => {
      const spool = await create(big)
      // Durable appends: each is written (so readable) before the next is made.
      for (let i = 0; i < 10; i++) await spool.append(fixedRecord(i), { waitDurable: true })
      const size = harness.sizeOf(fixedRecord(0))
      assert.equal((await spool.read({ maxRecords: 3, maxBytes: 1e9 })).length, 3)
      assert.equal((await spool.read({ maxRecords: 100, maxBytes: size * 2 })).length, 2)
      const one = await spool.read({ maxRecords: 100, maxBytes: 1 })
      assert.equal(one.length, 1)
      assert.equal(one[0]!.payload.toString(), 'p-000005')
      assert.equal((await spool.read(all)).length, 4)
    })

    it(`${name} - read waits for an append`, async () => {
      const spool = await create(big)
      const pending = spool.read(all)
      await spool.append(makeRecord(1), { waitDurable: true })
      const out = await pending
      assert.equal(out.length, 1)
      assert.equal(out[0]!.payload.toString(), makeRecord(1).payload.toString())
    })

    it(`${name} - read resolves with [] when its signal aborts`, async () => {
      const spool = await create(big)
      const ac = new AbortController()
      const pending = spool.read(all, ac.signal)
      ac.abort()
      assert.deepEqual(await pending, [])
      assert.deepEqual(await spool.read(all, ac.signal), [])
      // the spool still works for the next reader
      await spool.append(makeRecord(2), { waitDurable: true })
      assert.equal((await spool.read(all)).length, 1)
    })

    it(`${name} - read resolves with [] when the spool closes, and close is safe twice`, async () => {
      const spool = await create(big)
      const pending = spool.read(all)
      await spool.close()
      assert.deepEqual(await pending, [])
      await spool.close()
      assert.deepEqual(await spool.read(all), [])
      await assert.rejects(spool.append(makeRecord(1), { waitDurable: true }), { code: 'SPOOL_CLOSED' })
    })

    it(`${name} - commit removes confirmed records and says how many; a commit at or below the commit point is a no-op`, async () => {
      const spool = await create(big)
      const seqs: number[] = []
      for (let i = 0; i < 10; i++) seqs.push(await spool.append(makeRecord(i), { waitDurable: true }))
      await spool.read(all)
      assert.equal(await spool.commit(seqs[3]!), 4, 'records taken off')
      let st = spool.stats()
      assert.equal(st.depthRecords, 6)
      assert.equal(st.committedSeq, seqs[3])
      assert.equal(st.committedTotal, 4)
      assert.equal(st.appendedTotal, 10)
      assert.equal(await spool.commit(seqs[1]!), 0, 'a commit below the commit point takes nothing')
      st = spool.stats()
      assert.equal(st.depthRecords, 6)
      assert.equal(st.committedSeq, seqs[3])
      assert.equal(await spool.commit(seqs[9]!), 6)
      st = spool.stats()
      assert.equal(st.depthRecords, 0)
      assert.equal(st.depthBytes, 0)
      assert.equal(st.oldestAgeMs, 0)
    })

    it(`${name} - the read cursor only moves forward: a commit below it reads nothing twice`, async () => {
      const spool = await create(big)
      for (let i = 0; i < 5; i++) await spool.append(makeRecord(i), { waitDurable: true })
      const first = await spool.read({ maxRecords: 3, maxBytes: 1e9 })
      await spool.commit(first[0]!.seq)
      const rest = await spool.read(all)
      assert.deepEqual(
        rest.map((r) => r.payload.toString()),
        [3, 4].map((i) => makeRecord(i).payload.toString()),
      )
    })

    it(`${name} - the oldest-age stat is the oldest record not yet confirmed, read or not`, async () => {
      const spool = await create(big)
      const now = Date.now()
      const ages = [50_000, 40_000, 30_000, 20_000]
      for (let i = 0; i < ages.length; i++)
        await spool.append(makeRecord(i, { receivedAt: now - ages[i]! }), { waitDurable: true })
      const near = (ms: number, want: number): boolean => ms >= want && ms < want + 10_000
      assert.ok(near(spool.stats().oldestAgeMs, 50_000), 'nothing read yet')
      const two = await spool.read({ maxRecords: 2, maxBytes: 1e9 })
      await spool.commit(two[0]!.seq)
      assert.ok(near(spool.stats().oldestAgeMs, 40_000), 'the second is read, in flight')
      await spool.commit(two[1]!.seq)
      // Nothing in flight: the oldest is the first record not read yet.
      await waitUntil(() => near(spool.stats().oldestAgeMs, 30_000), 2_000, 'the oldest unread record')
      await spool.commit((await spool.read(all)).at(-1)!.seq)
      assert.equal(spool.stats().oldestAgeMs, 0)
    })

    it(`${name} - stats count depth in records and bytes`, async () => {
      const spool = await create(big)
      for (let i = 0; i < 4; i++) await spool.append(fixedRecord(i), { waitDurable: true })
      const st = spool.stats()
      assert.equal(st.depthRecords, 4)
      assert.equal(st.depthBytes, 4 * harness.sizeOf(fixedRecord(0)))
      assert.ok(st.oldestAgeMs >= 0)
      assert.deepEqual(st.drops, { 'drop-oldest': 0, 'drop-newest': 0, corrupt: 0 })
    })

    it(`${name} - whenFull block keeps appends pending until commit frees room, in arrival order`, async () => {
      const size = harness.sizeOf(fixedRecord(0))
      const spool = await create({ maxBytes: size * 3, whenFull: 'block' })
      const seqs: number[] = []
      for (let i = 0; i < 3; i++) seqs.push(await spool.append(fixedRecord(i), { waitDurable: true }))
      let settled = 0
      const blocked = [3, 4, 5].map((i) =>
        spool.append(fixedRecord(i), { waitDurable: true }).then((seq) => {
          settled++
          return seq
        }),
      )
      // Not "nothing happened for a while": the spool itself says the blocked records are not in it.
      const first = await spool.read(all)
      assert.deepEqual(
        first.map((r) => r.payload.toString()),
        ['p-000000', 'p-000001', 'p-000002'],
      )
      assert.equal(settled, 0)
      assert.equal(spool.stats().depthRecords, 3)
      await spool.commit(seqs[1]!)
      const [s3, s4] = await Promise.all(blocked.slice(0, 2))
      assert.ok(s3! > seqs[2]! && s4! > s3!)
      // Room for two: those two are in the spool, the third is not (and was not acknowledged).
      const second = await spool.read(all)
      assert.deepEqual(
        second.map((r) => r.payload.toString()),
        ['p-000003', 'p-000004'],
      )
      assert.equal(settled, 2)
      await spool.commit(seqs[2]!)
      const s5 = await blocked[2]!
      assert.ok(s5 > s4!)
      const out = await spool.read(all)
      assert.deepEqual(
        out.map((r) => r.payload.toString()),
        ['p-000005'],
      )
      assert.deepEqual(spool.stats().drops, { 'drop-oldest': 0, 'drop-newest': 0, corrupt: 0 })
    })

    it(`${name} - a blocked append rejects with ABORTED when its signal aborts, and SPOOL_CLOSED on close`, async () => {
      const size = harness.sizeOf(fixedRecord(0))
      const spool = await create({ maxBytes: size, whenFull: 'block' })
      await spool.append(fixedRecord(0), { waitDurable: true })
      const ac = new AbortController()
      const aborted = spool.append(fixedRecord(1), { waitDurable: true, signal: ac.signal })
      const closing = spool.append(fixedRecord(2), { waitDurable: true })
      const closingRejects = assert.rejects(closing, (err: EdgebridgeError) => err.code === 'SPOOL_CLOSED')
      ac.abort()
      await assert.rejects(aborted, (err: EdgebridgeError) => err.code === 'ABORTED')
      await spool.close()
      await closingRejects
    })

    it(`${name} - whenFull drop-newest rejects with SpoolFullError and counts the drop`, async () => {
      const size = harness.sizeOf(fixedRecord(0))
      const spool = await create({ maxBytes: size * 2, whenFull: 'drop-newest' })
      await spool.append(fixedRecord(0), { waitDurable: true })
      await spool.append(fixedRecord(1), { waitDurable: true })
      await assert.rejects(spool.append(fixedRecord(2), { waitDurable: true }), SpoolFullError)
      await assert.rejects(spool.append(fixedRecord(3), { waitDurable: false }), SpoolFullError)
      assert.equal(spool.stats().drops['drop-newest'], 2)
      const out = await spool.read(all)
      assert.deepEqual(
        out.map((r) => r.payload.toString()),
        ['p-000000', 'p-000001'],
      )
      await spool.commit(out[1]!.seq)
      const seq = await spool.append(fixedRecord(4), { waitDurable: true })
      assert.ok(seq > out[1]!.seq)
    })

    it(`${name} - whenFull drop-oldest drops the oldest unconfirmed records and counts them`, async () => {
      const size = harness.sizeOf(fixedRecord(0))
      const spool = await create({ maxBytes: size * 3, whenFull: 'drop-oldest' })
      for (let i = 0; i < 5; i++) await spool.append(fixedRecord(i), { waitDurable: true })
      const st = spool.stats()
      assert.equal(st.drops['drop-oldest'], 2)
      assert.equal(st.depthRecords, 3)
      const out = await spool.read(all)
      assert.deepEqual(
        out.map((r) => r.payload.toString()),
        ['p-000002', 'p-000003', 'p-000004'],
      )
      // a record dropped after it was read is not read again; the next read goes on after it
      const seq5 = await spool.append(fixedRecord(5), { waitDurable: true })
      assert.deepEqual(
        (await spool.read(all)).map((r) => r.payload.toString()),
        ['p-000005'],
      )
      // The forwarder counts what a commit took off, not its batch: the dropped record is not in it.
      assert.equal(await spool.commit(seq5), 3)
      assert.equal(spool.stats().depthRecords, 0)
    })

    it(`${name} - a record larger than maxBytes is accepted into an empty spool`, async () => {
      const spool = await create({ maxBytes: 10, whenFull: 'block' })
      const seq = await spool.append(makeRecord(1, { payload: Buffer.alloc(1000, 7) }), { waitDurable: true })
      const out = await spool.read(all)
      assert.equal(out[0]!.seq, seq)
      assert.equal(out[0]!.payload.length, 1000)
    })
  })
}
