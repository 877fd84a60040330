/**
 * Spool append throughput: the disk spool under each fsync policy, as a ratio of the MemorySpool's
 * rate measured in the same run. 256 B payloads, N concurrent appenders each awaiting its durable
 * append (like QoS 1 devices waiting for PUBACK), a consumer reading and committing alongside.
 *
 *   node --import tsx bench/spool-append.ts [seconds per case = 3] [appenders = 32]
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../src/observability/logger.js'
import type { RecordInput } from '../src/record.js'
import { DiskSpool } from '../src/spool/disk-spool.js'
import { MemorySpool } from '../src/spool/memory-spool.js'
import type { FsyncPolicy, Spool } from '../src/spool/spool.js'

const seconds = Number(process.argv[2] ?? 3)
const appenders = Number(process.argv[3] ?? 32)

const record: RecordInput = {
  topic: 'sensors/dev-1/temp',
  payload: Buffer.alloc(256, 7),
  qos: 1,
  retain: false,
  clientId: 'dev-1',
  gatewayId: 'gw-bench',
  receivedAt: Date.now(),
  target: 'edge.sensors',
  codec: 'raw',
}

async function run(spool: Spool): Promise<{ rate: number; fsyncs: number }> {
  const deadline = performance.now() + seconds * 1000
  let appended = 0
  const ac = new AbortController()
  const consumer = (async () => {
    while (!ac.signal.aborted) {
      const batch = await spool.read({ maxRecords: 1000, maxBytes: 1 << 20 }, ac.signal)
      if (batch.length > 0) await spool.commit(batch[batch.length - 1]!.seq)
    }
  })()
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      while (performance.now() < deadline) {
        await spool.append({ ...record, receivedAt: Date.now() }, { waitDurable: true })
        appended++
      }
    }),
  )
  const elapsed = (performance.now() - t0) / 1000
  ac.abort()
  await consumer
  const fsyncs = spool.stats().fsyncCount
  await spool.close()
  return { rate: appended / elapsed, fsyncs }
}

const memory = await run(new MemorySpool({ logger: silentLogger(), maxBytes: 1 << 30 }))
const rows: string[][] = [['spool', 'appends/s', 'ratio to memory', 'fsyncs']]
rows.push(['memory', memory.rate.toFixed(0), '1.000', '-'])
for (const fsync of ['never', 'interval', 'always'] as FsyncPolicy[]) {
  const dir = await mkdtemp(join(tmpdir(), 'edgebridge-bench-'))
  try {
    const r = await run(await DiskSpool.open({ dir, fsync, logger: silentLogger(), maxBytes: 1 << 30 }))
    rows.push([`disk fsync=${fsync}`, r.rate.toFixed(0), (r.rate / memory.rate).toFixed(3), String(r.fsyncs)])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '))
console.log(`256 B payloads, ${appenders} concurrent appenders awaiting durability, ${seconds} s per case`)
