/**
 * The publish path from a device to the spool: aedes' `authorizePublish` hook.
 *
 * Why here and not in the `published` hook: in aedes 1.x a QoS 1 PUBACK is written *before*
 * `published` runs (lib/handlers/publish.js: enqueuePublish), so the only place that can hold the
 * acknowledgement back until the message is durable is `authorizePublish`, whose callback gates
 * everything after it (DESIGN.md invariant 1). For QoS 2 the PUBREC likewise follows the callback.
 *
 * aedes dispatches all packets of one socket read concurrently, so callbacks are chained per client:
 * the appends are issued at once (the spool assigns seq in call order and can share one fsync among
 * them), but a client's callbacks run in arrival order, and so do its acknowledgements
 * [MQTT-4.6.0-2] [MQTT-4.6.0-3].
 */
import type { Client, PublishPacket } from 'aedes'
import { EdgebridgeError, SpoolFullError, errorMessage } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { Codec, QoS, RecordInput } from '../record.js'
import type { Spool } from '../spool/spool.js'
import { RateLimitedLog } from '../observability/rate-limited-log.js'

/** What the router answers for one message; undefined when no route matches. */
export interface RouteLookup {
  route(input: {
    topic: string
    clientId: string
    username?: string
  }): { target: string; key?: string; codec: Codec } | undefined
}

/** Decides whether a client may publish to a topic (ACL): null = allowed, else the reason. */
export type PublishPermission = (client: Client, topic: string) => Error | null

/** Slows a client over its publish rate or in-flight window; call release when its publish is done. */
export interface PublishPacing {
  acquire(client: object): Promise<() => void>
}

export interface PublishGateCounters {
  received: number
  spooled: number
  unrouted: number
  denied: number
  droppedFull: number
  /** Refused because the core could never accept them (larger than its max payload). */
  tooLargeForCore: number
}

export interface PublishGateOptions {
  spool: Spool
  router: RouteLookup
  gatewayId: string
  logger: Logger
  canPublish?: PublishPermission
  pacing?: PublishPacing
  /** The core's limit for one payload, once known (Backend.maxPayloadBytes). */
  coreMaxPayloadBytes?: () => number | undefined
  /** The username a client authenticated with (set by the authenticator). */
  usernameOf?: (client: Client) => string | undefined
}

type AuthorizePublish = (
  client: Client | null,
  packet: PublishPacket,
  callback: (error?: Error | null) => void,
) => void

/** The part of aedes' (untyped) persistence the QoS 2 duplicate check uses. */
interface QoS2Store {
  persistence: { incomingGetPacket(client: Client, packet: PublishPacket): Promise<unknown> }
}

const kChain = Symbol('edgebridge.publishChain')
const kAbort = Symbol('edgebridge.publishAbort')
type ChainedClient = Client & { [kChain]?: Promise<void>; [kAbort]?: AbortController }

export class PublishGate {
  readonly counters: PublishGateCounters = {
    received: 0,
    spooled: 0,
    unrouted: 0,
    denied: 0,
    droppedFull: 0,
    tooLargeForCore: 0,
  }
  private readonly unroutedLog: RateLimitedLog
  private readonly fullLog: RateLimitedLog

  constructor(private readonly options: PublishGateOptions) {
    this.unroutedLog = new RateLimitedLog(options.logger, 10_000)
    this.fullLog = new RateLimitedLog(options.logger, 10_000)
  }

  /** The function to pass to aedes as `authorizePublish`. */
  readonly authorizePublish: AuthorizePublish = (client, packet, callback) => {
    // Publishes by the broker itself (wills are published by aedes with a client; $SYS by the broker)
    if (client === null) return callback(null)
    const rejection = this.validate(client, packet)
    if (rejection !== undefined) return callback(rejection)

    const pending = this.admit(client as ChainedClient, packet)
    const chained = client as ChainedClient
    const previous = chained[kChain] ?? Promise.resolve()
    const next = previous.then(() =>
      pending.then(
        () => callback(null),
        (err: Error) => callback(err),
      ),
    )
    chained[kChain] = next
  }

  /** Abandon appends of a client that went away (a `block`ed append would otherwise wait forever). */
  clientGone(client: Client): void {
    const chained = client as ChainedClient
    chained[kAbort]?.abort()
    chained[kAbort] = undefined
    chained[kChain] = undefined
  }

  private validate(client: Client, packet: PublishPacket): Error | undefined {
    // [MQTT-4.7.3-2] Topic Names MUST NOT include the null character
    if (packet.topic.includes('\u0000')) {
      return new Error('topic contains the null character [MQTT-4.7.3-2]')
    }
    // [MQTT-1.5.3-1] ill-formed UTF-8 closes the connection. mqtt-packet has already decoded the topic
    // and turned each ill-formed sequence into U+FFFD, so that is all the gate can see; refusing it keeps
    // distinct byte strings from collapsing into one topic at the core. (A device that really uses
    // U+FFFD in a topic is refused too: the price of not re-parsing the bytes.)
    if (packet.topic.includes('\ufffd')) {
      return new Error('topic is not well-formed UTF-8 [MQTT-1.5.3-1]')
    }
    // aedes checks these for PUBLISH packets but not for a will, which comes from the CONNECT and is
    // published through this same hook: wildcards are not allowed in a Topic Name [MQTT-3.3.2-2]
    // [MQTT-4.7.1-1], and QoS 3 is not a QoS [MQTT-3.1.2-14].
    if (packet.topic.includes('+') || packet.topic.includes('#')) {
      return new Error('wildcards are not allowed in a topic name [MQTT-3.3.2-2]')
    }
    if (packet.qos > 2) return new Error(`QoS ${packet.qos} is not allowed [MQTT-3.1.2-14]`)
    // Devices never publish into the broker's own $SYS tree (Mosquitto does the same); the ACL says the rest.
    const denied =
      packet.topic === '$SYS' || packet.topic.startsWith('$SYS/')
        ? new EdgebridgeError('PUBLISH_DENIED', `client ${client.id} may not publish to $SYS topics`)
        : (this.options.canPublish?.(client, packet.topic) ?? null)
    if (denied !== null) {
      this.counters.denied++
      // MQTT 3.1.1 has no negative PUBACK: the only honest answer is to close the connection.
      this.options.logger.warn({ clientId: client.id, topic: packet.topic }, 'publish denied; closing client')
      return denied
    }
    // A message the core can never take must not be acknowledged: refuse it now, while the device
    // still has it (MQTT 3.1.1 has no negative PUBACK, so the connection is closed).
    const limit = this.options.coreMaxPayloadBytes?.()
    if (limit !== undefined) {
      const bytes = packet.payload.length + packet.topic.length + client.id.length
      if (bytes > limit) {
        this.counters.tooLargeForCore++
        this.options.logger.warn(
          { clientId: client.id, topic: packet.topic, bytes, limit },
          'payload larger than the core accepts; closing client',
        )
        return new EdgebridgeError(
          'BACKEND_REJECTED',
          `payload of ${bytes} bytes exceeds the core's limit of ${limit}`,
        )
      }
    }
    return undefined
  }

  /** Routes and spools one message; resolves when the device may be acknowledged. */
  private async admit(client: ChainedClient, packet: PublishPacket): Promise<void> {
    this.counters.received++
    const qos = packet.qos as QoS
    // [MQTT-4.3.3-2] a QoS 2 PUBLISH with DUP set that we already hold (no PUBREL yet) is not a new
    // message: aedes answers it with PUBREC again without publishing; we must not spool it twice.
    if (qos === 2 && packet.dup && (await this.holdsQos2(client, packet))) return

    const username = this.options.usernameOf?.(client)
    const route = this.options.router.route({ topic: packet.topic, clientId: client.id, username })
    if (route === undefined) {
      this.counters.unrouted++
      this.unroutedLog.warn(
        { topic: packet.topic, clientId: client.id },
        'no route matches the topic; message not forwarded',
      )
      return
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
    const record: RecordInput = {
      topic: packet.topic,
      payload,
      qos,
      retain: packet.retain,
      clientId: client.id,
      gatewayId: this.options.gatewayId,
      receivedAt: Date.now(),
      target: route.target,
      codec: route.codec,
    }
    if (username !== undefined) record.username = username
    if (route.key !== undefined) record.key = route.key

    let abort = client[kAbort]
    if (abort === undefined) {
      abort = new AbortController()
      client[kAbort] = abort
    }
    const release = this.options.pacing ? await this.options.pacing.acquire(client) : undefined
    try {
      await this.options.spool.append(record, { waitDurable: qos > 0, signal: abort.signal })
      this.counters.spooled++
    } catch (err) {
      if (err instanceof SpoolFullError) {
        // whenFull = drop-newest: the operator chose to keep devices going and lose the newest data.
        // The spool counted the drop; acknowledging keeps the device from resending it forever.
        this.counters.droppedFull++
        this.fullLog.warn({ clientId: client.id }, `spool full, message dropped: ${errorMessage(err)}`)
        return
      }
      throw err
    } finally {
      release?.()
    }
  }

  private holdsQos2(client: Client, packet: PublishPacket): Promise<boolean> {
    const broker = (client as unknown as { broker: QoS2Store }).broker
    return broker.persistence.incomingGetPacket(client, packet).then(
      () => true,
      () => false,
    )
  }
}
