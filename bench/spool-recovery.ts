/**
 * Spool recovery time: build a disk spool of the given size (default 1 GiB) with 256 B payloads,
 * half of it committed, close it, then time open(). Run with `--cold` as root to drop the page cache
 * first (what a reboot looks like); otherwise the files are warm in the cache.
 *
 *   node --import tsx bench/spool-recovery.ts [MiB = 1024] [--cold]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../src/observability/logger.js'
import type { RecordInput } from '../src/record.js'
import { DEFAULT_SEGMENT_BYTES, DiskSpool } from '../src/spool/disk-spool.js'
import { frameSize } from '../src/spool/frame-codec.js'
import { SEGMENT_HEADER_BYTES } from '../src/spool/segment.js'

const mib = Number(process.argv.find((a, i) => i >= 2 && /^\d+$/.test(a)) ?? 1024)
const cold = process.argv.includes('--cold')
const dir = await mkdtemp(join(tmpdir(), 'edgebridge-recovery-'))

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

try {
  const build = await DiskSpool.open({
    dir,
    fsync: 'never',
    maxBytes: (mib + 64) * 1024 * 1024,
    logger: silentLogger(),
  })
  const t0 = performance.now()
  while (build.stats().depthBytes < mib * 1024 * 1024) {
    for (let i = 0; i < 4999; i++) void build.append(record, { waitDurable: false })
    await build.append(record, { waitDurable: true })
  }
  // Worst case for open(): the active segment (the one recovery scans) is all but full.
  const perSegment = Math.floor((DEFAULT_SEGMENT_BYTES - SEGMENT_HEADER_BYTES) / frameSize(record))
  const inActive = build.stats().appendedTotal % perSegment
  for (let i = inActive; i < perSegment - 1; i++) void build.append(record, { waitDurable: false })
  await build.append(record, { waitDurable: true })
  // Commit a quarter so recovery starts mid-log, as after a partial drain.
  let toCommit = Math.floor(build.stats().depthRecords / 4)
  while (toCommit > 0) {
    const batch = await build.read({ maxRecords: Math.min(toCommit, 50_000), maxBytes: 1 << 30 })
    await build.commit(batch[batch.length - 1]!.seq)
    toCommit -= batch.length
  }
  const built = build.stats()
  await build.close()
  console.log(
    `built ${(built.depthBytes / 2 ** 20).toFixed(0)} MiB uncommitted (${built.depthRecords} records) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  )
  if (cold) await writeFile('/proc/sys/vm/drop_caches', '3\n')

  const t1 = performance.now()
  const spool = await DiskSpool.open({ dir, logger: silentLogger() })
  const openSeconds = (performance.now() - t1) / 1000
  const st = spool.stats()
  const first = await spool.read({ maxRecords: 1, maxBytes: 1 })
  await spool.close()
  console.log(
    `open() of a ${mib} MiB spool (${cold ? 'cold cache' : 'warm cache'}): ${openSeconds.toFixed(3)} s; depth ${st.depthRecords} records, ${(st.depthBytes / 2 ** 20).toFixed(0)} MiB; first seq ${first[0]?.seq}`,
  )
} finally {
  await rm(dir, { recursive: true, force: true })
}
