/**
 * `edgebridge bench memory`: resident memory of the gateway process at idle and with idle device
 * connections (KB per connection), next to a plain aedes broker measured the same way in the same run.
 *
 * - The daemon as shipped: the compiled JavaScript in dist/, in a child process started with no Node
 *   options but --expose-gc. Run from source, the bench itself runs under tsx, whose loader (a thread
 *   of its own, esbuild, transpile caches: about 35 MB) would otherwise be counted as the daemon's
 *   memory; dist/ is built first (`npm run build`) when it is missing or older than the source. The
 *   plain-aedes reference runs in the same compiled child and imports aedes alone.
 * - The daemon's default configuration: disk spool (fsync always) and the SQLite broker store, with
 *   only the bench's own changes (no connection cap, ephemeral ports, no log output, one route).
 * - Idle means settled. Each figure is read after a full GC, first 2 s after the step (start, or the
 *   last connection opened), then every 2 s until RSS stops falling (no new low by more than 1% for
 *   10 s) or --duration has passed: V8 gives back its young generation and emptied pages only some
 *   seconds after an allocation burst (its memory reducer), and a gateway idles for hours, not 2 s.
 *   Both readings are reported; the per-connection figure is (settled RSS - settled idle RSS) /
 *   connections.
 *
 * When the file-descriptor limit does not allow a count, the report says so and measures what could be
 * opened.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mqtt, { type MqttClient } from 'mqtt'
import { sleep } from '../lib/clock.js'
import { runName } from '../lib/core-endpoint.js'
import { benchDaemonConfig } from '../lib/daemon-config.js'
import { bytes, table } from '../lib/markdown.js'
import type { Scenario } from '../lib/scenario.js'
import { startSut, type Sut, type SutRuntime, type SutSpec } from '../lib/sut.js'
import type { SutStats } from '../lib/sut-child.js'

const FIRST_READING_MS = 2000 // the first reading, after a connection burst
const POLL_MS = 2000
const QUIET_MS = 10_000 // settled: no new low (by more than 1%) for this long

function fdLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim())
  } catch {
    return NaN
  }
}

/** Newest modification time of the TypeScript sources the compiled child is built from. */
function newestSourceMs(root: string): number {
  let newest = 0
  for (const dir of ['src', 'bench']) {
    for (const name of readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })) {
      if (name.endsWith('.ts')) newest = Math.max(newest, statSync(join(root, dir, name)).mtimeMs)
    }
  }
  return newest
}

/** The compiled sut-child (dist/), built first when missing or older than the source. */
function compiledRuntime(log: (line: string) => void): SutRuntime {
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.js')) {
    return { childPath: fileURLToPath(new URL('../lib/sut-child.js', import.meta.url)), execArgv: [] }
  }
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const childPath = join(root, 'dist', 'bench', 'lib', 'sut-child.js')
  if (!existsSync(childPath) || statSync(childPath).mtimeMs < newestSourceMs(root)) {
    log('  building dist/ (npm run build): the memory figures are those of the compiled daemon')
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
  }
  return { childPath, execArgv: [] }
}

interface Reading {
  /** 2 s after the step. */
  first: SutStats
  /** Once RSS stopped falling, or when the wait ran out. */
  settled: SutStats
  settledAfterMs: number
}

async function read(sut: Sut, maxWaitMs: number): Promise<Reading> {
  const start = Date.now()
  await sleep(FIRST_READING_MS)
  const first = await sut.stats()
  let settled = first
  let low = first.rss
  let lowAt = Date.now()
  while (Date.now() - lowAt < QUIET_MS && Date.now() - start < maxWaitMs) {
    await sleep(POLL_MS)
    settled = await sut.stats()
    if (settled.rss < low * 0.99) {
      low = settled.rss
      lowAt = Date.now()
    }
  }
  return { first, settled, settledAfterMs: Date.now() - start }
}

export const memoryScenario: Scenario = {
  name: 'memory',
  summary: 'RSS at idle and with idle device connections',
  async run(ctx) {
    const { options, endpoint } = ctx
    const limit = fdLimit()
    const rows: string[][] = []
    const data: unknown[] = []
    const notes: string[] = []
    const runtime = compiledRuntime(ctx.log)
    const config = benchDaemonConfig({
      endpoint,
      target: runName('ebbench-mem'),
      spool: { kind: 'disk' },
      store: { kind: 'disk' },
    })
    const specs: { label: string; spec: SutSpec }[] = [
      { label: `edgebridge (${endpoint.backend}, defaults)`, spec: { kind: 'edgebridge', config } },
      { label: 'plain aedes', spec: { kind: 'aedes' } },
    ]
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`
    try {
      for (const { label, spec } of specs) {
        const sut = await startSut(spec, runtime)
        const clients: MqttClient[] = []
        try {
          const idle = await read(sut, options.durationMs)
          const idleRss = idle.settled.rss
          rows.push([
            label,
            'idle',
            '0',
            bytes(idle.first.rss),
            bytes(idleRss),
            `${Math.round(idle.settledAfterMs / 1000)} s`,
            bytes(idle.settled.heapUsed),
            '',
            '',
          ])
          data.push({ label, connections: 0, ...readingData(idle) })
          ctx.log(`    ${label}: idle, RSS ${bytes(idleRss)} settled (${bytes(idle.first.rss)} at 2 s)`)
          for (const wanted of [...options.connectionCounts].sort((a, b) => a - b)) {
            ctx.progress.phase(`${label}: ${wanted} idle connections`, wanted)
            let failures = 0
            while (clients.length < wanted && failures < 50) {
              const batch = Math.min(200, wanted - clients.length)
              const settled = await Promise.allSettled(
                Array.from({ length: batch }, (_, k) =>
                  mqtt.connectAsync({
                    host: '127.0.0.1',
                    port: sut.port,
                    protocolVersion: 4,
                    clientId: `bench-mem-${process.pid}-${clients.length + k}`,
                    reconnectPeriod: 0,
                    keepalive: 600,
                    connectTimeout: 30_000,
                  }),
                ),
              )
              for (const s of settled) {
                if (s.status === 'fulfilled') clients.push(s.value)
                else failures++
              }
              ctx.progress.update(clients.length)
            }
            ctx.progress.stop()
            const r = await read(sut, options.durationMs)
            const opened = clients.length
            const perConn = (s: SutStats, base: number) => (opened > 0 ? (s.rss - base) / opened : 0)
            if (opened < wanted) {
              notes.push(
                `${label}: only ${opened} of ${wanted} connections could be opened (ulimit -n ${limit}).`,
              )
            }
            rows.push([
              label,
              `${wanted} wanted`,
              String(opened),
              bytes(r.first.rss),
              bytes(r.settled.rss),
              `${Math.round(r.settledAfterMs / 1000)} s`,
              bytes(r.settled.heapUsed),
              kb(perConn(r.first, idle.first.rss)),
              kb(perConn(r.settled, idleRss)),
            ])
            data.push({
              label,
              connections: opened,
              wanted,
              connectedAtBroker: r.settled.connected,
              ...readingData(r),
              perConnectionBytes: perConn(r.settled, idleRss),
              perConnectionBytesAt2s: perConn(r.first, idle.first.rss),
            })
            ctx.log(
              `    ${label}: ${opened} connections, RSS ${bytes(r.settled.rss)} settled, ${kb(perConn(r.settled, idleRss))} per connection (${kb(perConn(r.first, idle.first.rss))} at 2 s)`,
            )
          }
        } finally {
          await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)))
          await sut.stop()
        }
      }
    } finally {
      rmSync(config.dataDir, { recursive: true, force: true })
    }
    ctx.report.set('memory', { fdLimit: limit, maxSettleMs: options.durationMs, measurements: data })
    ctx.report.section(
      `Memory: idle device connections (file-descriptor limit ${limit})`,
      [
        table(
          [
            'process',
            'connections',
            'opened',
            'RSS at 2 s',
            'RSS settled',
            'settled after',
            'heap used',
            'per connection at 2 s',
            'per connection settled',
          ],
          rows,
        ),
        '',
        'The compiled daemon with its default storage (disk spool, SQLite broker store), measured in its own process after a full GC:',
        `2 s after each step, and once RSS stopped falling (at most ${Math.round(options.durationMs / 1000)} s).`,
        'Per connection: (RSS - idle RSS) / connections, at 2 s and settled.',
        ...notes,
      ].join('\n'),
    )
  },
}

function readingData(r: Reading) {
  return {
    rss: r.settled.rss,
    heapUsed: r.settled.heapUsed,
    settledAfterMs: r.settledAfterMs,
    rssAt2s: r.first.rss,
    heapUsedAt2s: r.first.heapUsed,
  }
}
