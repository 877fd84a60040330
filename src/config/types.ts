/**
 * The effective configuration, as the rest of the daemon sees it. The convict schema
 * (config/schema.ts and its sections) is the source of truth for defaults, env names and docs;
 * these types must match it, and config/load.ts returns this shape.
 */
import type { Codec } from '../record.js'
import type { FsyncPolicy, WhenFull } from '../spool/spool.js'

export type BackendName = 'redis' | 'redis-streams' | 'nats' | 'jetstream' | 'kafka'

export interface RouteConfig {
  /** MQTT topic filter (`+` and `#` wildcards). */
  match: string
  /** Core name template: `{topic}`, `{1}`, `{2}`... (wildcard segments), `{clientId}`, `{username}`. */
  target: string
  /** Kafka key template; defaults per backend (Kafka: `{clientId}`). */
  key?: string
  codec?: Codec
}

export interface MqttConfig {
  host: string
  port: number
  /** null = decide by address: allowed on loopback only. */
  allowAnonymous: boolean | null
  maxPacketBytes: number
  maxTopicLevels: number
  maxClientIdLength: number
  drainTimeoutMs: number
  connectTimeoutMs: number
  heartbeatIntervalMs: number
}

export interface SpoolConfig {
  kind: 'disk' | 'memory'
  fsync: FsyncPolicy
  fsyncIntervalMs: number
  segmentBytes: number
  maxBytes: number
  whenFull: WhenFull
}

export interface ForwarderConfig {
  batchMaxRecords: number
  batchMaxBytes: number
  retryInitialMs: number
  retryMaxMs: number
  /** Messages per second while draining a backlog; 0 = unlimited. */
  replayRateLimit: number
  /** On shutdown, how long to keep forwarding what is spooled before closing. */
  drainTimeoutMs: number
}

export interface RedisConfig {
  url: string
  username: string
  password: string
  /** Prepended to the MQTT topic to make the channel or stream key. */
  prefix: string
  /** Streams: XADD MAXLEN ~ N; 0 = no trimming. */
  streamMaxLen: number
  tls: TlsClientConfig
}

export interface TlsClientConfig {
  enabled: boolean
  caFile: string
  certFile: string
  keyFile: string
  rejectUnauthorized: boolean
}

export interface NatsConfig {
  servers: string[]
  user: string
  password: string
  token: string
  credsFile: string
  nkeySeedFile: string
  tls: TlsClientConfig
  /** Prepended (with a dot) to every subject; empty = none. */
  subjectPrefix: string
  stream: {
    name: string
    subjects: string[]
    /** Create (or update) the stream at start. */
    create: boolean
  }
}

export interface KafkaConfig {
  brokers: string[]
  clientId: string
  topic: string
  compression: 'none' | 'gzip' | 'lz4' | 'zstd' | 'snappy'
  /** Create missing topics at start (partitions/replicationFactor below). */
  createTopics: boolean
  partitions: number
  replicationFactor: number
  requestTimeoutMs: number
  tls: TlsClientConfig
  sasl: {
    mechanism: 'none' | 'plain' | 'scram-sha-256' | 'scram-sha-512'
    username: string
    password: string
  }
}

export interface EdgebridgeConfig {
  gatewayId: string
  dataDir: string
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' }
  mqtt: MqttConfig
  routes: RouteConfig[]
  spool: SpoolConfig
  forwarder: ForwarderConfig
  core: {
    backend: BackendName
    /** NATS queue group and Kafka consumer group of the downlink. */
    groupId: string
  }
  redis: RedisConfig
  nats: NatsConfig
  kafka: KafkaConfig
}
