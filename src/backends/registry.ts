/**
 * Backend name -> factory, in the manner of MQTT.js's table from scheme to builder. Each backend is
 * imported only when chosen, so a Redis gateway never loads kafkajs.
 */
import type { BackendName } from '../config/types.js'
import type { BackendFactory } from './backend.js'

const loaders: Record<BackendName, () => Promise<BackendFactory>> = {
  redis: async () => (await import('./redis/redis-backend.js')).createRedisBackend,
  'redis-streams': async () => (await import('./redis/redis-streams-backend.js')).createRedisStreamsBackend,
  nats: async () => (await import('./nats/nats-backend.js')).createNatsBackend,
  jetstream: async () => (await import('./nats/jetstream-backend.js')).createJetStreamBackend,
  kafka: async () => (await import('./kafka/kafka-backend.js')).createKafkaBackend,
}

export const backendNames = Object.keys(loaders) as BackendName[]

export async function loadBackendFactory(name: BackendName): Promise<BackendFactory> {
  const loader = loaders[name]
  if (loader === undefined) throw new TypeError(`unknown backend ${String(name)}`)
  return loader()
}
