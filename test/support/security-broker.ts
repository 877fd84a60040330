/**
 * A live aedes broker wired with the edge security modules the way the ingress wires them, and an
 * MQTT client helper that reports how a connection attempt ended. For the security integration tests.
 */
import { Aedes, type Client } from 'aedes'
import type { ListenerConfig } from '../../src/config/types.js'
import { Authenticator, type AuthenticatorOptions } from '../../src/ingress/auth/authenticator.js'
import {
  createListener,
  type ListenerHandle,
  type ListenerOptions,
} from '../../src/ingress/listeners/create-listener.js'
import type { PublishThrottle } from '../../src/ingress/limits/publish-throttle.js'
import type { PreConnectHook } from '../../src/ingress/broker.js'
import { silentLogger } from '../../src/observability/logger.js'

export function listenerConfig(
  overrides: Omit<Partial<ListenerConfig>, 'tls'> & { tls?: Partial<ListenerConfig['tls']> } = {},
): ListenerConfig {
  return {
    type: 'tcp',
    host: '127.0.0.1',
    port: 0,
    path: '/mqtt',
    allowAnonymous: null,
    maxConnections: 0,
    ...overrides,
    tls: {
      certFile: '',
      keyFile: '',
      caFile: '',
      requireCertificate: false,
      useIdentityAsUsername: false,
      minVersion: 'TLSv1.2',
      ...overrides.tls,
    },
  }
}

export interface SecurityBroker {
  broker: Aedes
  auth: Authenticator
  /** Topics in the order the broker accepted them. */
  published: string[]
  /** Clients that completed CONNECT, by client id. */
  ready: Map<string, Client>
  /** The broker's side of a client, once aedes has finished its CONNECT (which is after the CONNACK). */
  whenReady(clientId: string): Promise<Client>
  listen(config: ListenerConfig, options?: ListenerOptions): Promise<ListenerHandle>
  close(): Promise<void>
}

export async function startSecurityBroker(
  options: Partial<AuthenticatorOptions> & { throttle?: PublishThrottle; preConnect?: PreConnectHook } = {},
): Promise<SecurityBroker> {
  const logger = silentLogger()
  const auth = new Authenticator({ passwords: options.passwords ?? null, acl: options.acl ?? null }, logger)
  const published: string[] = []
  const throttle = options.throttle
  const broker = await Aedes.createBroker({
    ...(options.preConnect ? { preConnect: options.preConnect } : {}),
    authenticate: auth.authenticate,
    authorizeSubscribe: auth.authorizeSubscribe,
    authorizeForward: auth.authorizeForward,
    authorizePublish: (client, packet, done) => {
      if (!client) return done(null)
      const denied = auth.canPublish(client, packet.topic)
      if (denied) return done(denied)
      if (!throttle) {
        published.push(packet.topic)
        return done(null)
      }
      void throttle.acquire(client).then((release) => {
        published.push(packet.topic)
        release()
        done(null)
      })
    },
  })
  const ready = new Map<string, Client>()
  broker.on('clientReady', (c) => ready.set(c.id, c))
  const listeners: ListenerHandle[] = []
  return {
    broker,
    auth,
    published,
    ready,
    whenReady: (id) =>
      new Promise((resolve) => {
        const known = ready.get(id)
        if (known) return resolve(known)
        const on = (c: Client): void => {
          if (c.id !== id) return
          broker.off('clientReady', on)
          resolve(c)
        }
        broker.on('clientReady', on)
      }),
    async listen(config, opts) {
      const l = await createListener(config, broker, logger, opts)
      listeners.push(l)
      return l
    },
    async close() {
      throttle?.close()
      await new Promise<void>((r) => broker.close(() => r()))
      await Promise.all(listeners.map((l) => l.close()))
    },
  }
}
