/**
 * The publish path from a device to the spool: aedes' `authorizePublish` hook.
 *
 * A PUBLISH passes the checks (publish-checks.ts), waits for the client's pacing (rate and in-flight
 * limits), is routed, built into a record (record-builder.ts) and appended to the spool. aedes is
 * told to go on at once, so it reads the device's next packets while the append is in flight; what
 * waits is only the acknowledgement: ack-hold.ts keeps the PUBACK (QoS 1) or PUBREC (QoS 2) that aedes
 * writes until the append is durable, in arrival order per connection [MQTT-4.6.0-2] [MQTT-4.6.0-3]
 * (DESIGN.md invariant 1). An append that fails closes the connection and its acknowledgement never
 * leaves: MQTT 3.1.1 has no negative PUBACK.
 *
 * Appends are issued synchronously in arrival order, so the spool assigns seq in that order and one
 * fsync covers many of them. Back-pressure: a client holds at most `maxInflightPerClient` appends not
 * yet settled (the pacing's in-flight limit); beyond it the callback waits, aedes stops reading that
 * socket, and TCP pushes back on the device. With `whenFull: block` a full spool holds appends, so
 * the limit is reached and the device is slowed, not answered.
 *
 * Why the acknowledgement and not `published`: aedes 1.x writes a QoS 1 PUBACK *before* the
 * `published` hook runs, and local subscribers get the message right after the PUBACK is written. So
 * local subscribers may see a message before it is durable; if its append then fails, the device
 * resends it and they see it twice. The core never sees a record that was not appended.
 */
import type { Client, PublishPacket } from 'aedes'
import { SpoolFullError, errorMessage } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import { RateLimitedLog } from '../observability/rate-limited-log.js'
import type { Codec } from '../record.js'
import type { Spool } from '../spool/spool.js'
import { AckHold, type AckSlot } from './ack-hold.js'
import { runPublishChecks, type PublishCheckContext, type PublishPermission } from './publish-checks.js'
import { buildRecord } from './record-builder.js'

export type { PublishPermission } from './publish-checks.js'

/** What the router answers for one message; undefined when no route matches. */
export interface RouteLookup {
  route(input: {
    topic: string
    clientId: string
    username?: string
  }): { target: string; key?: string; codec: Codec } | undefined
}

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
  /**
   * Takes a publish that is not telemetry (a device's answer to a request, requests/requests.ts):
   * true = handled, acknowledge it without spooling or forwarding it.
   */
  claim?: (clientId: string, topic: string, payload: Buffer) => boolean
  /** The username a client authenticated with (set by the authenticator). */
  usernameOf?: (client: Client) => string | undefined
  /**
   * Makes the broker's own copies of a QoS 1 message durable (ingress/store/): done when it returns,
   * throws when it cannot.
   */
  storeBeforeAck?: (packet: PublishPacket) => void
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

const kAbort = Symbol('edgebridge.publishAbort')
type GatedClient = Client & { [kAbort]?: AbortController }

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
  private readonly checks: PublishCheckContext

  constructor(private readonly options: PublishGateOptions) {
    this.unroutedLog = new RateLimitedLog(options.logger, 10_000)
    this.fullLog = new RateLimitedLog(options.logger, 10_000)
    this.checks = {
      logger: options.logger,
      canPublish: options.canPublish,
      coreMaxPayloadBytes: options.coreMaxPayloadBytes,
      counters: this.counters,
    }
  }

  /** The function to pass to aedes as `authorizePublish`. */
  readonly authorizePublish: AuthorizePublish = (client, packet, callback) => {
    // Publishes by the broker itself (wills are published by aedes with a client; $SYS by the broker)
    if (client === null) return callback(null)
    const rejection = runPublishChecks(this.checks, client, packet)
    if (rejection !== undefined) return callback(rejection)
    const pacing = this.options.pacing
    if (pacing === undefined) return this.accept(client, packet, callback, undefined)
    pacing.acquire(client).then(
      (release) => this.accept(client, packet, callback, release),
      (err: Error) => callback(err),
    )
  }

  /** Abandon appends of a client that went away (a `block`ed append would otherwise wait forever). */
  clientGone(client: Client): void {
    const gated = client as GatedClient
    gated[kAbort]?.abort()
    gated[kAbort] = undefined
  }

  /** Start the append, let aedes go on, and settle the acknowledgement when the append does. */
  private accept(
    client: Client,
    packet: PublishPacket,
    callback: (error?: Error | null) => void,
    release: (() => void) | undefined,
  ): void {
    this.counters.received++
    const qos = packet.qos
    // The hold goes on with the connection's first QoS 1/2 PUBLISH, not when it connects: idle and
    // QoS 0 devices are many and each hold is about 0.4 KB. Here is between two packets (mqtt-packet
    // writes each packet synchronously, and aedes writes this PUBACK only after callback below).
    const slot: AckSlot | undefined =
      qos > 0 && packet.messageId !== undefined
        ? (AckHold.of(client.conn) ?? AckHold.attach(client.conn)).expect(packet.messageId, qos as 1 | 2)
        : undefined
    // The broker's own copies of a QoS 1 message (retained, queued for persistent sessions) are made
    // durable now, before aedes goes on (store/sqlite-store.ts storeBeforeAck); the hold covers both.
    const storeFailure = qos === 1 ? this.storeBeforeAck(packet) : undefined
    const appended = this.spool(client as GatedClient, packet)
    // A store that failed withholds the acknowledgement like a failed append (the append still runs:
    // a message forwarded but never acknowledged is a duplicate when the device sends it again).
    const settled =
      storeFailure === undefined
        ? appended
        : appended.then(() => {
            throw storeFailure
          })
    callback(null)
    settled.then(
      () => {
        release?.()
        slot?.release()
      },
      (err: Error) => {
        release?.()
        if (slot !== undefined) slot.fail(err)
        else client.conn.destroy(err) // QoS 0: no acknowledgement to withhold, but the failure is told
      },
    )
  }

  /** The store's copies of a QoS 1 message, made durable now; what it threw, if it failed. */
  private storeBeforeAck(packet: PublishPacket): Error | undefined {
    try {
      this.options.storeBeforeAck?.(packet)
      return undefined
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err))
    }
  }

  /** Routes and spools one message; resolves when the device may be acknowledged. */
  private spool(client: GatedClient, packet: PublishPacket): Promise<void> {
    // [MQTT-4.3.3-2] a QoS 2 PUBLISH with DUP set that we already hold (no PUBREL yet) is not a new
    // message: aedes answers it with PUBREC again without publishing; we must not spool it twice.
    if (packet.qos === 2 && packet.dup) {
      return this.holdsQos2(client, packet).then((held) => (held ? undefined : this.append(client, packet)))
    }
    return this.append(client, packet)
  }

  private async append(client: GatedClient, packet: PublishPacket): Promise<void> {
    if (this.options.claim?.(client.id, packet.topic, payloadOf(packet))) return
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
    const record = buildRecord(client, packet, route, this.options.gatewayId, username)
    let abort = client[kAbort]
    if (abort === undefined) {
      abort = new AbortController()
      client[kAbort] = abort
    }
    try {
      await this.options.spool.append(record, { waitDurable: packet.qos > 0, signal: abort.signal })
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

function payloadOf(packet: PublishPacket): Buffer {
  return typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
}
