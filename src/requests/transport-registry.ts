/**
 * A table from backend to its request transport, loaded only when chosen (as backends/registry.ts):
 * the compiler demands an entry per backend.
 */
import type { BackendName } from '../config/types.js'
import { ConfigError } from '../errors.js'
import type { RequestTransportFactory } from './request-transport.js'

const transports: Record<BackendName, () => Promise<RequestTransportFactory>> = {
  nats: async () => (await import('../backends/nats/nats-request-transport.js')).createNatsRequestTransport,
  jetstream: async () =>
    (await import('../backends/nats/nats-request-transport.js')).createNatsRequestTransport,
  redis: unsupported('redis'),
  'redis-streams': unsupported('redis-streams'),
  kafka: unsupported('kafka'),
}

export function loadRequestTransport(backend: BackendName): Promise<RequestTransportFactory> {
  return transports[backend]()
}

function unsupported(backend: BackendName): () => Promise<RequestTransportFactory> {
  return () =>
    Promise.reject(new ConfigError(`requests.enabled: the ${backend} backend cannot carry requests yet`))
}
