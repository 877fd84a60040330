/**
 * `edgebridge bench <scenario> [options]`: runs one benchmark scenario from bench/scenarios and writes
 * its results (JSON, Markdown, .hgrm histograms, SVG plots) to bench/results/<timestamp>-<scenario>/.
 * Scenarios are a table from name to module, each loaded only when chosen.
 */
import { parseArgs } from 'node:util'
import { backendNames } from '../backends/registry.js'
import type { BackendName } from '../config/types.js'
import { errorMessage } from '../errors.js'
import { SPOOL_CHOICES, type SpoolChoice } from '../../bench/lib/daemon-config.js'

const EX_USAGE = 64

type ScenarioModule = () => Promise<import('../../bench/lib/scenario.js').Scenario>

const scenarios: Record<string, { summary: string; load: ScenarioModule }> = {
  latency: {
    summary:
      'open-loop latency, 5 standard configurations x QoS 0/1, with direct-client and plain-aedes references',
    load: async () => (await import('../../bench/scenarios/latency.js')).latencyScenario,
  },
  throughput: {
    summary: 'closed-loop devices with an in-flight window: delivered msg/s vs direct client and plain aedes',
    load: async () => (await import('../../bench/scenarios/throughput.js')).throughputScenario,
  },
  'kafka-throughput': {
    summary: 'MQTT QoS 1 -> Kafka delivered msg/s vs 1/(1/A + 1/K) of plain aedes (A) and kafkajs direct (K)',
    load: async () => (await import('../../bench/scenarios/kafka-throughput.js')).kafkaThroughputScenario,
  },
  'spool-relay': {
    summary:
      'relay rate with the disk spool (fsync always / interval / never) as a ratio of the memory spool',
    load: async () => (await import('../../bench/scenarios/spool-relay.js')).spoolRelayScenario,
  },
  replay: {
    summary: 'drain rate of a backlog built while the core was down, with live traffic at 2,000 msg/s',
    load: async () => (await import('../../bench/scenarios/replay.js')).replayScenario,
  },
  'request-reply': {
    summary:
      'request/reply round trip NATS -> edgebridge -> MQTT device -> NATS vs direct NATS request/reply',
    load: async () => (await import('../../bench/scenarios/request-reply.js')).requestReplyScenario,
  },
  'status-page': {
    summary: 'a device at 2,000 msg/s with and without a paused status-page reader (delivered rate ratio)',
    load: async () => (await import('../../bench/scenarios/status-page.js')).statusPageScenario,
  },
  memory: {
    summary: 'RSS at idle and with 1,000 / 10,000 idle device connections (KB per connection)',
    load: async () => (await import('../../bench/scenarios/memory.js')).memoryScenario,
  },
}

const OPTIONS = {
  backend: { type: 'string', default: 'redis' },
  duration: { type: 'string', default: '30' },
  grace: { type: 'string', default: '5' },
  qos: { type: 'string', default: '0,1' },
  config: { type: 'string', default: '' },
  devices: { type: 'string', default: '20' },
  window: { type: 'string', default: '10' },
  payload: { type: 'string', default: '256' },
  backlog: { type: 'string', default: '1000000' },
  'live-rate': { type: 'string', default: '2000' },
  connections: { type: 'string', default: '1000,10000' },
  spool: { type: 'string', default: 'always' },
  fsync: { type: 'string', default: 'always,interval,never' },
  store: { type: 'string', default: 'memory' },
  retain: { type: 'boolean', default: false },
  'request-rate': { type: 'string', default: '500' },
  out: { type: 'string' },
  'redis-url': { type: 'string' },
  'nats-servers': { type: 'string' },
  'kafka-brokers': { type: 'string' },
  'no-progress': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const

export function benchHelp(): string {
  return [
    'Usage: edgebridge bench <scenario> [options]   (or: npm run bench -- <scenario> [options])',
    '',
    'Scenarios:',
    ...Object.entries(scenarios).map(([name, s]) => `  ${name.padEnd(18)}${s.summary}`),
    '',
    'Options:',
    `  --backend <name>        ${backendNames.join(' | ')} (default redis)`,
    '  --duration <s>          seconds per measured run (default 30; 2 for a smoke run)',
    '  --grace <s>             wait this long after the last arrival before counting the rest lost (default 5)',
    '  --qos <list>            MQTT QoS levels for latency (default 0,1)',
    '  --config <list>         latency configurations: 256B-3k,1KB-3k,5KB-2k,1KB-20k-25conn,1MB-100 (default all)',
    '  --devices <n>           closed-loop devices; request-reply: answering devices (default 20)',
    '  --window <n>            in-flight QoS 1 messages per device (default 10)',
    '  --payload <bytes>       closed-loop and request payload size (default 256)',
    '  --backlog <n>           replay: messages spooled while the core is down (default 1000000)',
    '  --live-rate <n>         replay: live msg/s while the backlog drains (default 2000)',
    '  --connections <list>    memory: idle connection counts (default 1000,10000)',
    "  --spool <list>          latency, throughput: edgebridge's spools, a row each: always, interval, never (disk spool",
    '                          with that fsync policy), memory (default always, as the daemon ships);',
    '                          kafka-throughput: the first one',
    '  --fsync <list>          spool-relay: disk fsync policies to compare (default always,interval,never)',
    '  --store <list>          spool-relay: broker stores, each with every spool (memory, disk; default memory)',
    '  --retain                spool-relay: devices publish retained messages (a broker store write each)',
    '  --request-rate <n>      request-reply: requests/s over all devices (default 500)',
    '  --out <dir>             results directory (default bench/results/<timestamp>-<scenario>)',
    '  --redis-url, --nats-servers, --kafka-brokers   core addresses (also EDGEBRIDGE_REDIS_URL,',
    '                          EDGEBRIDGE_NATS_SERVERS, EDGEBRIDGE_KAFKA_BROKERS)',
    '  --no-progress           no progress bar even on a terminal',
  ].join('\n')
}

function list(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '')
}

function positive(name: string, value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--${name} must be a positive number, got "${value}"`)
  return n
}

class UsageError extends Error {}

export async function runBenchCommand(args: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    process.stderr.write(`edgebridge bench: ${errorMessage(err)}\n\n${benchHelp()}\n`)
    return EX_USAGE
  }
  const { values, positionals } = parsed
  const name = positionals[0]
  if (values.help || name === undefined) {
    process.stdout.write(benchHelp() + '\n')
    return values.help ? 0 : EX_USAGE
  }
  const entry = scenarios[name]
  if (entry === undefined) {
    process.stderr.write(`edgebridge bench: unknown scenario "${name}"\n\n${benchHelp()}\n`)
    return EX_USAGE
  }
  let options: import('../../bench/lib/scenario.js').BenchOptions
  try {
    const backend = values.backend as BackendName
    if (!backendNames.includes(backend))
      throw new UsageError(`--backend must be one of ${backendNames.join(', ')}`)
    const qos = list(values.qos).map((q) => {
      if (q !== '0' && q !== '1') throw new UsageError(`--qos takes 0 and/or 1, got "${q}"`)
      return Number(q) as 0 | 1
    })
    const fsync = list(values.fsync).map((f) => {
      if (f !== 'always' && f !== 'interval' && f !== 'never')
        throw new UsageError(`--fsync takes always, interval, never`)
      return f
    })
    const spools = list(values.spool).map((s) => {
      if (!(SPOOL_CHOICES as readonly string[]).includes(s))
        throw new UsageError(`--spool takes ${SPOOL_CHOICES.join(', ')}, got "${s}"`)
      return s as SpoolChoice
    })
    // An empty list would measure no edgebridge at all (and leave throughput without its headline row).
    if (spools.length === 0) throw new UsageError(`--spool takes at least one of ${SPOOL_CHOICES.join(', ')}`)
    const stores = list(values.store).map((s) => {
      if (s !== 'memory' && s !== 'disk') throw new UsageError(`--store takes memory and/or disk`)
      return s
    })
    options = {
      backend,
      durationMs: positive('duration', values.duration) * 1000,
      graceMs: positive('grace', values.grace) * 1000,
      qos,
      configs: list(values.config),
      devices: Math.round(positive('devices', values.devices)),
      window: Math.round(positive('window', values.window)),
      payloadBytes: Math.round(positive('payload', values.payload)),
      backlog: Math.round(positive('backlog', values.backlog)),
      liveRate: positive('live-rate', values['live-rate']),
      connectionCounts: list(values.connections).map((c) => Math.round(positive('connections', c))),
      spools,
      fsync,
      stores,
      retain: values.retain === true,
      requestRate: positive('request-rate', values['request-rate']),
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`edgebridge bench: ${err.message}\n`)
    return EX_USAGE
  }
  let harness: typeof import('../../bench/lib/run-scenario.js')
  let scenario: Awaited<ReturnType<ScenarioModule>>
  try {
    harness = await import('../../bench/lib/run-scenario.js')
    scenario = await entry.load()
  } catch (err) {
    // The plotting and progress libraries are development dependencies: a production install
    // (npm ci --omit=dev, the container image) keeps the gateway small and leaves them out.
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') {
      process.stderr.write(
        `edgebridge bench: ${errorMessage(err)}\nThe benchmark needs the development dependencies: run \`npm ci\` in a checkout.\n`,
      )
      return 1
    }
    throw err
  }
  const { runScenario } = harness
  const outcome = await runScenario(scenario, options, {
    out: values.out,
    redisUrl: values['redis-url'],
    natsServers: values['nats-servers'],
    kafkaBrokers: values['kafka-brokers'],
    progress: !values['no-progress'],
  })
  process.stdout.write(`\n${outcome.markdown}\nResults in ${outcome.dir}\n`)
  return 0
}
