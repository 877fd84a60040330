/**
 * The steps every crash and outage test shares: a data directory, random kills of the daemon, and the
 * end of a run (stop the load, let devices and the daemon catch up, read the core, judge, print).
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DaemonProcess } from '../support/daemon-process.js'
import { DeviceFleet } from '../support/device-fleet.js'
import type { TestContext } from 'node:test'
import { testRedisUrl, uniqueName } from '../support/env.js'
import { collectUntilComplete, redisStreamCollector, type CoreCollector } from './core-collectors.js'
import { judge, summary, type Verdict } from './verdict.js'

/** How long devices may take to get a PUBACK for everything once the load stopped. */
const DEVICE_DRAIN_TIMEOUT_MS = 120_000 // 2 min
/** How long the daemon may take to forward its backlog once the devices are done. */
const CORE_DRAIN_TIMEOUT_MS = 120_000 // 2 min

/**
 * Undo steps run last-registered first (devices, then collector, then daemon, then the core, then
 * files), whatever order node:test runs its after() hooks in: a consumer closed after its broker, or a
 * daemon after its data directory, could hang or fail the run.
 */
export class Cleanup {
  private readonly steps: Array<() => unknown> = []

  add<T>(value: T, step: (value: T) => unknown): T {
    this.steps.push(() => step(value))
    return value
  }

  async run(): Promise<void> {
    const errors: unknown[] = []
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step()
      } catch (err) {
        errors.push(err)
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed')
  }
}

export async function tempDataDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'edgebridge-crash-'))
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

/**
 * The start of every crash and outage test: undo steps that run when the test ends (Cleanup), and a
 * fresh data directory for the daemon, removed last.
 */
export async function crashTestStart(t: TestContext): Promise<{ cleanup: Cleanup; dataDir: string }> {
  const cleanup = new Cleanup()
  t.after(() => cleanup.run())
  const data = cleanup.add(await tempDataDir(), (d) => d.remove())
  return { cleanup, dataDir: data.dir }
}

/** A small seeded generator (mulberry32), so a failing run's kill schedule can be printed and replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * A daemon (real child process) with a disk spool (fsync always) in `dataDir`, retrying at least every
 * second (so a backlog drains soon after a core comes back); `env` names the backend and its core and
 * may override the rest. Registered for cleanup.
 */
export async function spooledDaemon(
  cleanup: Cleanup,
  options: { name: string; dataDir: string; gatewayId: string; env: Record<string, string> },
): Promise<DaemonProcess> {
  const daemon = await DaemonProcess.start({
    name: options.name,
    env: {
      EDGEBRIDGE_DATA_DIR: options.dataDir,
      EDGEBRIDGE_GATEWAY_ID: options.gatewayId,
      EDGEBRIDGE_SPOOL_KIND: 'disk',
      EDGEBRIDGE_SPOOL_FSYNC: 'always',
      EDGEBRIDGE_LOG_LEVEL: 'info',
      EDGEBRIDGE_FORWARDER_RETRY_MAX_MS: '1000',
      ...options.env,
    },
  })
  return cleanup.add(daemon, (x) => x.close())
}

/** A fleet publishing to `daemon` (device i to `topic(i)`, default sensors/<i>), registered for cleanup. */
export async function fleetOn(
  cleanup: Cleanup,
  daemon: DaemonProcess,
  options: { devices: number; ratePerSecond: number; topic?: (device: number) => string },
): Promise<DeviceFleet> {
  const fleet = await DeviceFleet.start({
    url: `mqtt://127.0.0.1:${daemon.mqttPort}`,
    devices: options.devices,
    ratePerSecond: options.ratePerSecond,
    topic: options.topic ?? ((i) => `sensors/${i}`),
  })
  return cleanup.add(fleet, (x) => x.close())
}

/**
 * A daemon (real child process) relaying into a Redis stream named `stream` on the test Redis, with a
 * disk spool (fsync always) in `dataDir`; `env` adds or overrides settings. Registered for cleanup.
 */
export async function redisStreamsDaemon(
  cleanup: Cleanup,
  dataDir: string,
  stream: string,
  redisUrl: string,
  env: Record<string, string> = {},
): Promise<DaemonProcess> {
  return spooledDaemon(cleanup, {
    name: 'edgebridge (redis-streams)',
    dataDir,
    gatewayId: stream,
    env: { EDGEBRIDGE_BACKEND: 'redis-streams', EDGEBRIDGE_REDIS_URL: redisUrl, ...env },
  })
}

/**
 * A run into the test Redis: a daemon relaying into a new stream (redisStreamsDaemon), a collector
 * reading that stream, and a fleet of devices all publishing to it (the stream key is the topic).
 */
export async function redisStreamsRun(
  cleanup: Cleanup,
  dataDir: string,
  options: { name: string; devices: number; ratePerSecond: number; env?: Record<string, string> },
): Promise<{ daemon: DaemonProcess; collector: CoreCollector; fleet: DeviceFleet }> {
  const stream = uniqueName(options.name)
  const daemon = await redisStreamsDaemon(cleanup, dataDir, stream, testRedisUrl(), options.env)
  const collector = cleanup.add(redisStreamCollector(testRedisUrl(), stream), (x) => x.close())
  const fleet = await fleetOn(cleanup, daemon, { ...options, topic: () => stream })
  return { daemon, collector, fleet }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * For `durationMs`, waits a random minMs..maxMs, SIGKILLs the daemon and starts it again (same data
 * directory, same port). Resolves with the number of kills.
 */
export async function killRepeatedly(
  daemon: DaemonProcess,
  options: { durationMs: number; minMs: number; maxMs: number; random: () => number },
): Promise<number> {
  const end = Date.now() + options.durationMs
  let kills = 0
  while (Date.now() < end) {
    await sleep(options.minMs + options.random() * (options.maxMs - options.minMs))
    await daemon.kill('SIGKILL')
    kills++
    await daemon.start()
  }
  return kills
}

/** A cluster node that can fail: the current leader, as `leaderBounces` finds it before each bounce. */
export interface BounceTarget {
  name: string
  /** SIGTERM when `clean`, else SIGKILL (a crash); the node keeps its data. */
  stop(clean: boolean): Promise<void>
  start(): Promise<void>
}

/**
 * A hard bounce of the current leader every `everyMs` (±1 s of jitter) during `loadMs`: stopped, down
 * for `downMs`, started again, the last one back before the load ends. Bounce number `cleanAt` is a
 * clean shutdown, the others SIGKILL. Resolves with the bounced nodes' names, "(clean)" marked.
 */
export async function leaderBounces(
  leader: () => Promise<BounceTarget>,
  options: { loadMs: number; everyMs: number; downMs: number; cleanAt: number; random: () => number },
): Promise<string[]> {
  const bounced: string[] = []
  const started = Date.now()
  for (let k = 1; k * options.everyMs + options.downMs < options.loadMs; k++) {
    const jitter = (options.random() - 0.5) * 2_000
    await sleep(Math.max(0, started + k * options.everyMs + jitter - Date.now()))
    const node = await leader()
    const clean = bounced.length + 1 === options.cleanAt
    await node.stop(clean)
    bounced.push(`${node.name}${clean ? '(clean)' : ''}`)
    await sleep(options.downMs)
    await node.start()
  }
  return bounced
}

/** Records the daemon found in its spool when it started (the backlog each restart recovered). */
export function recoveredRecords(daemon: DaemonProcess): number {
  return daemon.find('spool open').reduce((n, l) => n + (typeof l.backlog === 'number' ? l.backlog : 0), 0)
}

/**
 * What a kill run claims it exercised, asserted: the daemon was killed at least once, and the restarts
 * found acknowledged records on disk that only the spool's recovery could save. Without these a run
 * that never killed, or killed an empty spool, would pass the verdict while testing nothing.
 */
export function crashFigures(
  daemon: DaemonProcess,
  kills: number,
): { kills: number; recoveredRecords: number } {
  const recovered = recoveredRecords(daemon)
  assert.ok(kills > 0, 'the daemon was killed at least once')
  assert.ok(recovered > 0, `the restarts recovered records from the spool (kills: ${kills})`)
  return { kills, recoveredRecords: recovered }
}

/**
 * The random-kill run: SIGKILL the daemon every 1-4 s (seeded) for `killingMs`, each time starting it
 * again on the same data directory, then end the run (finishRun) and assert what it exercised.
 */
export async function killAtRandomThenFinish(
  run: { daemon: DaemonProcess; fleet: DeviceFleet; collector: CoreCollector },
  options: { backend: string; seed: number; killingMs: number },
): Promise<void> {
  const kills = await killRepeatedly(run.daemon, {
    durationMs: options.killingMs,
    minMs: 1_000,
    maxMs: 4_000,
    random: seededRandom(options.seed),
  })
  await finishRun('crash', run, {
    backend: options.backend,
    seed: options.seed,
    ...crashFigures(run.daemon, kills),
  })
}

export interface Outcome {
  verdict: Verdict
  /** From the end of the load until every acknowledged message was at the core. */
  drainMs: number
}

/**
 * Ends a run: no new messages, every device gets its PUBACKs (so each sent message is acknowledged:
 * proof the devices re-sent what a crash left unacknowledged), the core gets the backlog, the daemon
 * stops cleanly (exit 0). Then judges, prints the summary line and asserts the promise.
 */
export async function finishRun(
  label: string,
  parts: { daemon: DaemonProcess; fleet: DeviceFleet; collector: CoreCollector },
  extra: Record<string, string | number>,
): Promise<Outcome> {
  const { daemon, fleet, collector } = parts
  const started = Date.now()
  fleet.stopPublishing()
  await fleet.drain(DEVICE_DRAIN_TIMEOUT_MS)
  const acknowledged = fleet.acknowledged()
  const { arrivals } = await collectUntilComplete(collector, acknowledged, CORE_DRAIN_TIMEOUT_MS)
  const drainMs = Date.now() - started
  await daemon.stop()
  const stopped = daemon.lines.filter((l) => l.msg === 'stopped').at(-1)

  const verdict = judge(acknowledged, arrivals)
  const counts = fleet.counts()
  console.log(
    summary(label, verdict, {
      ...extra,
      published: counts.published,
      deviceConnects: fleet.connects(),
      drainMs,
    }),
  )
  assert.ok(counts.published > 0, 'the devices published')
  assert.ok(verdict.acknowledged > 0, 'the daemon acknowledged messages')
  assert.equal(fleet.errors(), 0, 'no device gave a message up')
  assert.equal(stopped?.leftInSpool, 0, 'the daemon forwarded its whole backlog before it stopped')
  assert.equal(verdict.foreign, 0, 'only fleet messages on the core name')
  assert.equal(
    verdict.lost,
    0,
    `acknowledged messages missing at the core: ${verdict.lost} (e.g. ${verdict.lostExamples.join(', ')})`,
  )
  assert.deepEqual(verdict.orderViolations, [], 'per-device order at the core')
  // Every published message was acknowledged and nothing acknowledged is missing, so each arrived.
  assert.ok(verdict.arrived >= counts.published, 'every published message arrived')
  return { verdict, drainMs }
}

export interface OutageFigures {
  /** How long the core was down. */
  outageMs: number
  /** Messages acknowledged to devices while the core was down: the spool kept accepting. */
  acknowledgedDuringOutage: number
  /** From the core's restart until everything acknowledged before it was at the core. */
  backlogDrainMs: number
}

/**
 * Load for `beforeMs`, then the core down for `outageMs` (stop() until start() is called), then load
 * for at least `afterMs` more, during which the backlog must reach the core. The fleet keeps
 * publishing throughout.
 */
export async function coreOutage(
  parts: {
    fleet: DeviceFleet
    collector: CoreCollector
    core: { stop(): Promise<void>; start(): Promise<void> }
  },
  options: { beforeMs: number; outageMs: number; afterMs: number },
): Promise<OutageFigures> {
  const { fleet, collector, core } = parts
  await sleep(options.beforeMs)
  const down = Date.now()
  await core.stop()
  const ackedAtStop = fleet.counts().acknowledged
  await sleep(options.outageMs)
  const acknowledgedDuringOutage = fleet.counts().acknowledged - ackedAtStop
  const backlog = fleet.acknowledged()
  await core.start()
  const up = Date.now()
  const outageMs = up - down
  await collectUntilComplete(collector, backlog, CORE_DRAIN_TIMEOUT_MS)
  const backlogDrainMs = Date.now() - up
  await sleep(Math.max(0, options.afterMs - backlogDrainMs))
  return { outageMs, acknowledgedDuringOutage, backlogDrainMs }
}

/** What differs between the outage tests: the core, how the daemon reaches it, and where devices publish. */
export interface OutageSpec {
  backend: string
  /** For messages: "Redis", "NATS", "Kafka". */
  coreName: string
  core: { stop(): Promise<void>; start(): Promise<void> }
  /** The daemon's backend settings (EDGEBRIDGE_* variables). */
  backendEnv: Record<string, string>
  gatewayId: string
  dataDir: string
  collector: CoreCollector
  topic: (device: number) => string
  devices: number
  ratePerSecond: number
  outageMs: number
}

/**
 * The whole outage test: the daemon (child process, disk spool, fsync always) under a steady fleet,
 * its core stopped for `outageMs` and started again; then the run is finished and judged. The test
 * registers the core and the collector with `cleanup` first, so they are closed after the daemon.
 */
export async function outageUnderLoad(cleanup: Cleanup, spec: OutageSpec): Promise<void> {
  const daemon = await spooledDaemon(cleanup, {
    name: `edgebridge (${spec.backend})`,
    dataDir: spec.dataDir,
    gatewayId: spec.gatewayId,
    env: { ...spec.backendEnv, EDGEBRIDGE_BACKEND: spec.backend },
  })
  const fleet = await fleetOn(cleanup, daemon, spec)

  const outage = await coreOutage(
    { fleet, collector: spec.collector, core: spec.core },
    { beforeMs: 5_000, outageMs: spec.outageMs, afterMs: 5_000 },
  )
  assert.ok(outage.acknowledgedDuringOutage > 0, `devices were acknowledged while ${spec.coreName} was down`)
  await finishRun(
    'outage',
    { daemon, fleet, collector: spec.collector },
    {
      backend: spec.backend,
      outageMs: outage.outageMs,
      acknowledgedDuringOutage: outage.acknowledgedDuringOutage,
      backlogDrainMs: outage.backlogDrainMs,
    },
  )
}
