/**
 * A complete, valid configuration for tests, with overrides merged in.
 * Backed by the real loader so tests see the same defaults as the daemon.
 */
import type { EdgebridgeConfig } from '../../src/config/types.js'
import { loadConfig } from '../../src/config/load-config.js'
import { defaultGroupId } from '../../src/config/schema/core.js'
import { testKafkaBrokers, testNatsUrl, testRedisUrl } from './env.js'

type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K]
}

/**
 * The daemon's defaults (loadConfig with no file, no environment, no flags), with what tests need
 * instead: no output, an ephemeral port, a memory spool, the test servers, and short retry and drain
 * times so a test that takes a core down does not wait for production back-off.
 */
export function baseTestConfig(): EdgebridgeConfig {
  const defaults = loadConfig({ argv: [], env: {} })
  return merge(defaults, {
    gatewayId: 'test-gw',
    dataDir: '',
    log: { level: 'silent' },
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { port: 0 },
    security: { maxConnections: 0, maxInflightPerClient: 1000 },
    spool: { kind: 'memory', maxBytes: 64 * 1024 * 1024 },
    store: { kind: 'memory' },
    forwarder: { retryInitialMs: 50, retryMaxMs: 1000, drainTimeoutMs: 5000 },
    core: { groupId: '' },
    redis: { url: testRedisUrl() },
    nats: { servers: [testNatsUrl()], stream: { subjects: ['>'] } },
    kafka: { brokers: testKafkaBrokers(), clientId: 'edgebridge-test', createTopics: true },
  } satisfies DeepPartial<EdgebridgeConfig>)
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

/** The test defaults with `overrides`; an empty core.groupId is filled in as the loader does. */
export function testConfig(overrides: DeepPartial<EdgebridgeConfig> = {}): EdgebridgeConfig {
  const config = merge(baseTestConfig(), overrides)
  if (config.core.groupId === '') config.core.groupId = defaultGroupId(config.gatewayId)
  return config
}
