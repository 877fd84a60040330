/**
 * Ingress: the embedded broker and its listeners, started and stopped as one.
 *
 * `start()` opens every listener or none: if one address is taken the ones already open are closed
 * and start() rejects with LISTEN_ADDRESS_IN_USE naming the address, so the daemon exits with one
 * clear line instead of running half-reachable.
 */
import type { Aedes } from 'aedes'
import { effectiveListeners } from '../config/schema/listeners.js'
import type { EdgebridgeConfig } from '../config/types.js'
import { EdgebridgeError } from '../errors.js'
import type { DeviceActivity } from '../observability/device-activity.js'
import type { Logger } from '../observability/logger.js'
import type { Spool } from '../spool/spool.js'
import { wireActivityEvents } from './activity-events.js'
import type { AuthCounters } from './auth/auth-counters.js'
import { identityOf } from './auth/authenticator.js'
import type { AdmissionCounters } from './limits/connection-limiter.js'
import { topicMatches } from '../routing/topic-filter.js'
import { createBroker, type ClientCloseCounters } from './broker.js'
import { createEdgeSecurity, type EdgeSecurity } from './edge-security.js'
import { createListener, type ListenerHandle } from './listeners/create-listener.js'
import { PublishGate, type RouteLookup } from './publish-gate.js'
import { createBrokerStore, type BrokerStore, type StoreCounters } from './store/index.js'

/** The part of aedes' (untyped) persistence `reach` asks: persistent sessions' subscriptions. */
interface StoredSubscriptions {
  subscriptionsByTopic(topic: string): Promise<Array<{ clientId: string; qos: number }>>
}

export interface IngressOptions {
  config: EdgebridgeConfig
  spool: Spool
  router: RouteLookup
  logger: Logger
  /** The core's payload limit, once the backend knows it. */
  coreMaxPayloadBytes?: () => number | undefined
  /** Publishes that are not telemetry: answers to requests (PublishGateOptions.claim). */
  claim?: (clientId: string, topic: string, payload: Buffer) => boolean
  /** Told of connections and publishes (metrics, the status page). */
  activity?: DeviceActivity
}

export class Ingress {
  private broker: Aedes | undefined
  private gate: PublishGate | undefined
  private closeCounters: ClientCloseCounters | undefined
  private listeners: ListenerHandle[] = []
  private security: EdgeSecurity | undefined
  private store: BrokerStore | undefined
  private closing: Promise<void> | undefined

  constructor(private readonly options: IngressOptions) {}

  async start(): Promise<void> {
    const { config, logger } = this.options
    const security = await createEdgeSecurity(config, logger)
    this.security = security
    const store = createBrokerStore(config, logger)
    this.store = store
    this.gate = new PublishGate({
      spool: this.options.spool,
      router: this.options.router,
      gatewayId: config.gatewayId,
      logger,
      canPublish: security.auth.canPublish.bind(security.auth),
      pacing: security.throttle,
      usernameOf: (client) => identityOf(client)?.username ?? undefined,
      coreMaxPayloadBytes: this.options.coreMaxPayloadBytes,
      storeBeforeAck: (packet) => store.storeBeforeAck(packet as unknown as Record<string, unknown>),
      claim: this.options.claim,
    })
    const created = await createBroker({
      mqtt: config.mqtt,
      gatewayId: config.gatewayId,
      gate: this.gate,
      logger,
      preConnect: security.preConnect,
      authenticate: security.auth.authenticate,
      authorizeSubscribe: security.auth.authorizeSubscribe,
      authorizeForward: security.auth.authorizeForward,
      maxInflightInbound: config.security.maxInflightPerClient,
      persistence: store.persistence,
      replays: store.persistence,
    })
    this.broker = created.broker
    this.closeCounters = created.counters
    if (this.options.activity !== undefined) wireActivityEvents(created.broker, this.options.activity)
    try {
      for (const listener of security.withAnonymousPolicy(effectiveListeners(config))) {
        this.listeners.push(await createListener(listener, this.broker, logger, { admit: security.admit }))
      }
    } catch (err) {
      await this.close()
      throw err
    }
  }

  /** True once every listener is bound, until close() (readiness). */
  listening(): boolean {
    return this.listeners.length > 0 && this.closing === undefined
  }

  /** Ports actually bound, in listener order (for tests and the log). */
  ports(): number[] {
    return this.listeners.map((l) => l.address.port)
  }

  counters(): {
    publish: PublishGate['counters'] | undefined
    clients: ClientCloseCounters | undefined
    store: StoreCounters | undefined
    auth: AuthCounters | undefined
    admission: AdmissionCounters | undefined
    connected: number
  } {
    return {
      publish: this.gate?.counters,
      clients: this.closeCounters,
      store: this.store?.counters,
      auth: this.security?.auth.counters,
      admission: this.security?.admission,
      connected: this.broker?.connectedClients ?? 0,
    }
  }

  /** Core -> device: publish to the devices subscribed to `topic` (the downlink). */
  publishToDevices(topic: string, payload: Buffer, qos: 0 | 1 | 2 = 0, retain = false): Promise<void> {
    const broker = this.broker
    if (broker === undefined)
      return Promise.reject(new EdgebridgeError('INGRESS_STOPPED', 'ingress is not running'))
    return new Promise((resolve, reject) =>
      broker.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    )
  }

  /**
   * Would a publish to `topic` reach a device: now ('online': a connected client is subscribed), later
   * ('queued': an offline persistent session subscribed with QoS 1 or 2 gets it queued [MQTT-3.1.2-5])
   * or never ('none')? Used by requests to answer "no device" at once.
   */
  async reach(topic: string): Promise<'online' | 'queued' | 'none'> {
    const broker = this.broker
    if (broker === undefined) return 'none'
    const clients = (
      broker as unknown as { clients: Record<string, { subscriptions: Record<string, unknown> }> }
    ).clients
    for (const client of Object.values(clients)) {
      for (const filter of Object.keys(client.subscriptions)) if (topicMatches(filter, topic)) return 'online'
    }
    const persistence = (broker as unknown as { persistence: StoredSubscriptions }).persistence
    const stored = await persistence.subscriptionsByTopic(topic)
    return stored.some((s) => s.qos > 0) ? 'queued' : 'none'
  }

  /** SIGHUP: new certificates, password and ACL files; connected devices stay connected. */
  async reload(): Promise<void> {
    await Promise.all(this.listeners.map((l) => l.reloadCertificates()))
    await this.security?.reloadFiles()
  }

  /** Stop accepting: close listeners, then the broker (which disconnects clients). Safe twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // A server's close() completes only once its connections are gone, and closing the broker is
      // what disconnects them: stop accepting first, then close the broker, then wait for both.
      this.security?.close()
      const listenersClosed = Promise.all(this.listeners.map((l) => l.close()))
      this.listeners = []
      const broker = this.broker
      if (broker !== undefined) await new Promise<void>((resolve) => broker.close(() => resolve()))
      await listenersClosed
      await this.store?.close()
    })()
    return this.closing
  }
}
