/**
 * Backend name -> descriptor and factory, in the manner of MQTT.js's table from scheme to builder.
 * Typed tables: the compiler demands an entry per backend. A descriptor (naming, codecs, default
 * route, downlink syntax) is small and always loaded; a backend's client is imported only when chosen,
 * so a Redis gateway never loads kafkajs.
 */
import type { BackendName } from '../config/types.js'
import type { BackendFactory } from './backend.js'
import type { BackendDescriptor } from './descriptor.js'
import { kafkaDescriptor } from './kafka/descriptor.js'
import { jetstreamDescriptor, natsDescriptor } from './nats/descriptor.js'
import { redisDescriptor, redisStreamsDescriptor } from './redis/descriptor.js'

const descriptors: Record<BackendName, BackendDescriptor> = {
  redis: redisDescriptor,
  'redis-streams': redisStreamsDescriptor,
  nats: natsDescriptor,
  jetstream: jetstreamDescriptor,
  kafka: kafkaDescriptor,
}

const loaders: Record<BackendName, () => Promise<BackendFactory>> = {
  redis: async () => (await import('./redis/redis-backend.js')).createRedisBackend,
  'redis-streams': async () => (await import('./redis/redis-streams-backend.js')).createRedisStreamsBackend,
  nats: async () => (await import('./nats/nats-backend.js')).createNatsBackend,
  jetstream: async () => (await import('./nats/jetstream-backend.js')).createJetStreamBackend,
  kafka: async () => (await import('./kafka/kafka-backend.js')).createKafkaBackend,
}

export const backendNames = Object.keys(loaders) as BackendName[]

export function descriptorOf(name: BackendName): BackendDescriptor {
  const descriptor = descriptors[name]
  if (descriptor === undefined) throw new TypeError(`unknown backend ${String(name)}`)
  return descriptor
}

export async function loadBackendFactory(name: BackendName): Promise<BackendFactory> {
  const loader = loaders[name]
  if (loader === undefined) throw new TypeError(`unknown backend ${String(name)}`)
  return loader()
}
