/**
 * A table from backend to its request transport, loaded only when chosen (as backends/registry.ts):
 * the compiler demands an entry per backend.
 */
import type { BackendName } from '../config/types.js'
import type { RequestTransportFactory } from './request-transport.js'

const transports: Record<BackendName, () => Promise<RequestTransportFactory>> = {
  nats: async () => (await import('../backends/nats/nats-request-transport.js')).createNatsRequestTransport,
  jetstream: async () =>
    (await import('../backends/nats/nats-request-transport.js')).createNatsRequestTransport,
  redis: async () =>
    (await import('../backends/redis/redis-request-transport.js')).createRedisRequestTransport,
  'redis-streams': async () =>
    (await import('../backends/redis/redis-stream-request-transport.js')).createRedisStreamRequestTransport,
  kafka: async () =>
    (await import('../backends/kafka/kafka-request-transport.js')).createKafkaRequestTransport,
}

export function loadRequestTransport(backend: BackendName): Promise<RequestTransportFactory> {
  return transports[backend]()
}
