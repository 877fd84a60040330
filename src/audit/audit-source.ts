/**
 * Where the audit reads what reached the core: one source per durable backend, in a table from
 * backend name to loader (the way backends/registry.ts does it), each loaded only when chosen.
 *
 * A source reads from its start point up to what the core held when the audit began (a snapshot:
 * Kafka's high watermarks, the stream's last sequence, the stream's last entry id), so an audit of a
 * core that is still being written to ends. Core NATS and Redis pub/sub keep nothing: at-most-once,
 * nothing to read back; the table says so instead of a loader.
 */
import type { BackendName } from '../config/types.js'
import type { OpenSource } from './audited-record.js'

const sources: Record<BackendName, (() => Promise<OpenSource>) | string> = {
  kafka: async () => (await import('./kafka-source.js')).openKafkaSource,
  jetstream: async () => (await import('./jetstream-source.js')).openJetStreamSource,
  'redis-streams': async () => (await import('./redis-stream-source.js')).openRedisStreamSource,
  nats: 'core NATS is at-most-once and keeps nothing to read back: audit a JetStream stream (backend jetstream)',
  redis:
    'Redis pub/sub is at-most-once and keeps nothing to read back: audit a Redis stream (backend redis-streams)',
}

/** The loader for a backend, or the sentence saying why there is nothing to audit. */
export async function loadAuditSource(backend: BackendName): Promise<OpenSource | string> {
  const entry = sources[backend]
  return typeof entry === 'string' ? entry : entry()
}
