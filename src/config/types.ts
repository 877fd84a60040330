/**
 * The effective configuration, as the rest of the daemon sees it. The schema (config/schema/, one
 * file per section) is the source of truth for defaults, env names and docs; these types must match
 * it, and loadConfig (config/load-config.ts) returns this shape.
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
  /** The route's label in metrics (`edgebridge_routed_publishes_total{route}`); default `route-<index>`. */
  name?: string
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

/** The broker store: retained messages, persistent sessions, their queues (config/schema/store.ts). */
export interface StoreConfig {
  kind: 'disk' | 'memory'
  /** Per persistent session. */
  maxQueuedMessages: number
  /** Per persistent session: payload + topic bytes. */
  maxQueuedBytes: number
  maxRetainedMessages: number
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
  /** Under systemd's watchdog: the longest the forwarder may show no sign of life. */
  stallLimitMs: number
}

export interface RedisConfig {
  url: string
  username: string
  password: string
  /** File the password was read from at load (already resolved into `password`); empty = none. */
  passwordFile: string
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
  /** Resolved into `password` at load; empty = none. */
  passwordFile: string
  token: string
  /** Resolved into `token` at load; empty = none. */
  tokenFile: string
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
  /** The cluster's message.max.bytes (records larger than it are refused at ingress). */
  maxMessageBytes: number
  requestTimeoutMs: number
  tls: TlsClientConfig
  sasl: {
    mechanism: 'none' | 'plain' | 'scram-sha-256' | 'scram-sha-512'
    username: string
    password: string
    /** Resolved into `password` at load; empty = none. */
    passwordFile: string
  }
}

export type ListenerType = 'tcp' | 'tls' | 'ws' | 'wss'

/** One MQTT listener. With `listeners` empty, the daemon opens one `tcp` listener on mqtt.host:mqtt.port. */
export interface ListenerConfig {
  type: ListenerType
  host: string
  port: number
  /** WebSocket path (ws, wss). */
  path: string
  /** null = decide by address: anonymous clients are allowed on loopback only. */
  allowAnonymous: boolean | null
  /** 0 = no per-listener cap (the global security.maxConnections still applies). */
  maxConnections: number
  tls: {
    certFile: string
    keyFile: string
    caFile: string
    /** Mutual TLS: refuse clients without a certificate signed by caFile. */
    requireCertificate: boolean
    /** Take the MQTT username from the client certificate's CN. */
    useIdentityAsUsername: boolean
    minVersion: 'TLSv1.2' | 'TLSv1.3'
  }
}

export interface SecurityConfig {
  /** mosquitto_passwd format file; empty = no password file. */
  passwordFile: string
  /** Mosquitto acl_file format; empty = every authenticated client may read and write any topic but $SYS/. */
  aclFile: string
  /** Total connections across listeners; 0 = unlimited. */
  maxConnections: number
  /** Unacknowledged inbound QoS 1/2 publishes per client. */
  maxInflightPerClient: number
  /** Token bucket per client; 0 = no limit. Over the limit a client is slowed, not dropped. */
  publishRatePerSecond: number
  publishBurst: number
  flapping: {
    /** N connects from one client id or address within windowMs -> refused for banMs; 0 = off. */
    maxConnects: number
    windowMs: number
    banMs: number
  }
}

/** The operations HTTP listener (config/schema/http.ts). */
export interface HttpConfig {
  enabled: boolean
  host: string
  port: number
  /** Bearer token file; empty = none. */
  tokenFile: string
  allowAnonymous: boolean
  tls: { certFile: string; keyFile: string; caFile: string }
}

/** One downlink import rule (config/schema/downlink.ts); the optional fields have defaults in downlink/. */
export interface DownlinkRuleConfig {
  /** In the core's naming: NATS subject filter, Redis PSUBSCRIBE pattern or stream key, Kafka topic. */
  source: string
  /** MQTT topic template: `{topic}` (the default mapping), `{1}`, `{2}`... (source wildcards), `{key}`. */
  topic?: string
  /** Default 1. */
  qos?: 0 | 1 | 2
  /** Default false. */
  retain?: boolean
}

export interface DownlinkConfig {
  enabled: boolean
  rules: DownlinkRuleConfig[]
}

/** One request rule (config/schema/requests.ts); the optional fields have defaults in requests/. */
export interface RequestRuleConfig {
  /** In the core's naming, as a downlink source. */
  source: string
  /** Template of the device id: `{1}`..., `{key}`, `{device}`, `{method}`. */
  device?: string
  /** Template of the method, same placeholders. */
  method?: string
  /** MQTT topic of the request: `{device}`, `{method}`, `{id}`. */
  topic?: string
  /** MQTT topic of the answer: `{device}`, `{status}`, `{id}`, each a whole level. */
  answerTopic?: string
  /** Default requests.timeoutMs. */
  timeoutMs?: number
  /** Default 1. */
  qos?: 0 | 1 | 2
}

export interface RequestsConfig {
  enabled: boolean
  rules: RequestRuleConfig[]
  timeoutMs: number
  maxInFlight: number
  maxInFlightPerDevice: number
}

export interface EdgebridgeConfig {
  gatewayId: string
  dataDir: string
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' }
  mqtt: MqttConfig
  listeners: ListenerConfig[]
  security: SecurityConfig
  routes: RouteConfig[]
  spool: SpoolConfig
  store: StoreConfig
  forwarder: ForwarderConfig
  core: {
    backend: BackendName
    /** NATS queue group and Kafka consumer group of the downlink. */
    groupId: string
  }
  redis: RedisConfig
  nats: NatsConfig
  kafka: KafkaConfig
  /** Core -> devices. */
  downlink: DownlinkConfig
  /** Core -> device requests and their answers back. */
  requests: RequestsConfig
  /** /metrics, /healthz, /readyz and the status page. */
  http: HttpConfig
}
