/**
 * The daemon configuration a bench run uses: the daemon's own defaults (loadConfig with no file and
 * no environment) with the core addresses of the run, an ephemeral MQTT port, no log output, one
 * route from the bench topics to the run's unique core name, and the spool the scenario asks for.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/index.js'
import type { EdgebridgeConfig, SpoolConfig, StoreConfig } from '../../src/config/types.js'
import type { CoreEndpoint } from './core-endpoint.js'

/** MQTT topics the bench devices publish to: bench/<device>. */
export const BENCH_TOPIC_FILTER = 'bench/#'

export interface DaemonConfigOptions {
  endpoint: CoreEndpoint
  /** Core name (channel, subject, topic, stream key) every bench message is routed to. */
  target: string
  spool?: Partial<SpoolConfig>
  /** The broker store (default: memory). */
  store?: Partial<StoreConfig>
  /** Data directory for a disk spool or store; a fresh temporary directory when omitted. */
  dataDir?: string
  maxPacketBytes?: number
}

/**
 * The spool a latency run gives edgebridge: a disk spool with an fsync policy (`always` is what the
 * daemon ships with), or the memory spool.
 */
export type SpoolChoice = 'always' | 'interval' | 'never' | 'memory'

export const SPOOL_CHOICES: readonly SpoolChoice[] = ['always', 'interval', 'never', 'memory']

export function spoolOf(choice: SpoolChoice): Partial<SpoolConfig> {
  return choice === 'memory' ? { kind: 'memory' } : { kind: 'disk', fsync: choice }
}

/** How a report names a spool choice. */
export function spoolLabel(choice: SpoolChoice): string {
  return choice === 'memory' ? 'memory spool' : `disk spool, fsync ${choice}`
}

/** The temporary data directories benchDaemonConfig made: each run's spool segments go with its run. */
const madeDataDirs = new Set<string>()

/** Removes the data directory of `config` if benchDaemonConfig made it (a directory given to it stays). */
export function removeBenchDataDir(config: EdgebridgeConfig): void {
  if (!madeDataDirs.delete(config.dataDir)) return
  rmSync(config.dataDir, { recursive: true, force: true })
}

export function benchDaemonConfig(options: DaemonConfigOptions): EdgebridgeConfig {
  const defaults = loadConfig({ argv: [], env: {} })
  const { endpoint, target } = options
  const spool: SpoolConfig = {
    ...defaults.spool,
    kind: 'memory',
    maxBytes: 1024 * 1024 * 1024,
    ...options.spool,
  }
  const store: StoreConfig = { ...defaults.store, kind: 'memory', ...options.store }
  const onDisk = spool.kind === 'disk' || store.kind === 'disk'
  let dataDir = options.dataDir ?? defaults.dataDir
  if (options.dataDir === undefined && onDisk) {
    dataDir = mkdtempSync(join(tmpdir(), 'edgebridge-bench-'))
    madeDataDirs.add(dataDir)
  }
  return {
    ...defaults,
    gatewayId: 'bench-gw',
    dataDir,
    log: { level: 'silent' },
    mqtt: {
      ...defaults.mqtt,
      host: '127.0.0.1',
      port: 0,
      allowAnonymous: true,
      maxPacketBytes: Math.max(defaults.mqtt.maxPacketBytes, options.maxPacketBytes ?? 0),
    },
    listeners: [],
    // An ephemeral port: a bench runs next to a gateway that may hold the default one.
    http: { ...defaults.http, port: 0 },
    security: {
      ...defaults.security,
      maxConnections: 0,
      maxInflightPerClient: 65535,
      publishRatePerSecond: 0,
      // Thousands of bench devices connect from one address within a second: not flapping.
      flapping: { ...defaults.security.flapping, maxConnects: 0 },
    },
    routes: [{ match: BENCH_TOPIC_FILTER, target, codec: 'raw' }],
    spool,
    store,
    core: { ...defaults.core, backend: endpoint.backend },
    redis: { ...defaults.redis, url: endpoint.redisUrl, prefix: '' },
    nats: {
      ...defaults.nats,
      servers: endpoint.natsServers,
      subjectPrefix: '',
      stream: { name: target.replace(/[^A-Za-z0-9_-]/g, '_'), subjects: [target], create: true },
    },
    kafka: {
      ...defaults.kafka,
      brokers: endpoint.kafkaBrokers,
      clientId: 'edgebridge-bench',
      createTopics: true,
    },
  }
}
