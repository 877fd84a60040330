/**
 * Where the bench finds the core servers, and the unique names a run uses on them. Addresses come
 * from flags, else the daemon's own environment variables, else the local defaults.
 */
import type { BackendName } from '../../src/config/types.js'

export interface CoreEndpoint {
  backend: BackendName
  redisUrl: string
  natsServers: string[]
  kafkaBrokers: string[]
}

export interface CoreAddressFlags {
  redisUrl?: string | undefined
  natsServers?: string | undefined
  kafkaBrokers?: string | undefined
}

export function coreEndpoint(
  backend: BackendName,
  flags: CoreAddressFlags = {},
  env = process.env,
): CoreEndpoint {
  const list = (s: string): string[] =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '')
  return {
    backend,
    redisUrl: flags.redisUrl ?? env.EDGEBRIDGE_REDIS_URL ?? 'redis://127.0.0.1:6379',
    natsServers: list(flags.natsServers ?? env.EDGEBRIDGE_NATS_SERVERS ?? 'nats://127.0.0.1:4222'),
    kafkaBrokers: list(flags.kafkaBrokers ?? env.EDGEBRIDGE_KAFKA_BROKERS ?? '127.0.0.1:9092'),
  }
}

/** A name valid as a Kafka topic, NATS subject, JetStream stream and Redis key, unique to this run. */
export function runName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`
}
