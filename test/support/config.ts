/**
 * A complete, valid configuration for tests, with overrides merged in.
 * Backed by the real loader so tests see the same defaults as the daemon.
 */
import type { EdgebridgeConfig } from '../../src/config/types.js'
import { testKafkaBrokers, testNatsUrl, testRedisUrl } from './env.js'

type DeepPartial<T> = { [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] }

const noTls = { enabled: false, caFile: '', certFile: '', keyFile: '', rejectUnauthorized: true }

export function baseTestConfig(): EdgebridgeConfig {
  return {
    gatewayId: 'test-gw',
    dataDir: '',
    log: { level: 'silent' },
    mqtt: {
      host: '127.0.0.1',
      port: 0,
      allowAnonymous: null,
      maxPacketBytes: 1024 * 1024 + 1024,
      maxTopicLevels: 32,
      maxClientIdLength: 256,
      drainTimeoutMs: 60000,
      connectTimeoutMs: 30000,
      heartbeatIntervalMs: 60000,
    },
    listeners: [],
    security: {
      passwordFile: '',
      aclFile: '',
      maxConnections: 0,
      maxInflightPerClient: 1000,
      publishRatePerSecond: 0,
      publishBurst: 0,
      flapping: { maxConnects: 0, windowMs: 10000, banMs: 60000 },
    },
    routes: [],
    spool: {
      kind: 'memory',
      fsync: 'always',
      fsyncIntervalMs: 100,
      segmentBytes: 64 * 1024 * 1024,
      maxBytes: 64 * 1024 * 1024,
      whenFull: 'block',
    },
    forwarder: {
      batchMaxRecords: 500,
      batchMaxBytes: 1024 * 1024,
      retryInitialMs: 50,
      retryMaxMs: 1000,
      replayRateLimit: 0,
      drainTimeoutMs: 5000,
    },
    core: { backend: 'redis', groupId: '' },
    redis: { url: testRedisUrl(), username: '', password: '', prefix: '', streamMaxLen: 0, tls: noTls },
    nats: {
      servers: [testNatsUrl()],
      user: '',
      password: '',
      token: '',
      credsFile: '',
      nkeySeedFile: '',
      tls: noTls,
      subjectPrefix: '',
      stream: { name: 'EDGEBRIDGE', subjects: ['>'], create: false },
    },
    kafka: {
      brokers: testKafkaBrokers(),
      clientId: 'edgebridge-test',
      topic: 'edgebridge.ingest',
      compression: 'none',
      createTopics: true,
      partitions: 1,
      replicationFactor: 1,
      requestTimeoutMs: 30000,
      tls: noTls,
      sasl: { mechanism: 'none', username: '', password: '' },
    },
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value)
}

function merge<T>(base: T, patch: unknown): T {
  if (!isPlainObject(patch) || !isPlainObject(base)) return (patch === undefined ? base : patch) as T
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(patch)) out[k] = merge((base as Record<string, unknown>)[k], v)
  return out as T
}

export function testConfig(overrides: DeepPartial<EdgebridgeConfig> = {}): EdgebridgeConfig {
  return merge(baseTestConfig(), overrides)
}
