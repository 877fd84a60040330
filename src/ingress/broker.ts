/**
 * The embedded MQTT broker: aedes 1.2 with edgebridge's hooks.
 *
 * aedes does the protocol; this file adds what aedes leaves to its user and what the gateway needs:
 * - the publish gate (publish-gate.ts) and the acknowledgement hold on a connection's stream
 *   (ack-hold.ts): PUBACK only after the spool made the message durable, without stalling the stream.
 *   The gate puts the hold on with the connection's first QoS 1/2 PUBLISH, so a device that never
 *   publishes one (a subscriber, a QoS 0 sensor) costs no hold;
 * - the broker store (store/): retained messages, persistent sessions and their queues on disk. The
 *   broker's id is the gateway id, fixed across restarts, so the messages a session had queued keep
 *   their order and aedes' duplicate check (per broker id and counter) sees one broker, not a new one
 *   after each restart; a resumed session gets its queue before any newer message (resume-order.ts);
 * - a packet size limit enforced on the byte stream (packet-size-guard.ts);
 * - [MQTT-3.1.3-8]: a zero-byte ClientId with CleanSession=0 gets CONNACK 0x02 and is closed
 *   (aedes would invent an id and keep a session nobody can resume);
 * - [MQTT-1.5.3-1]: a client id that is not well-formed UTF-8 gets CONNACK 0x02 and is closed;
 * - authentication and subscribe authorization hooks supplied by ingress/auth;
 * - a log line with the reason whenever a client is closed for an error, so an operator can tell a
 *   misbehaving device from a network problem. Other clients never notice;
 * - less memory per idle connection and none for a table the gateway does not need (see
 *   `lightenMqttPacket` and `lightenParser`).
 */
import { createRequire } from 'node:module'
import {
  Aedes,
  type AedesOptions,
  type AuthenticateError,
  type Client,
  type ConnectPacket,
  type Subscription,
} from 'aedes'
import type { MqttConfig } from '../config/types.js'
import type { Logger } from '../observability/logger.js'
import { PacketSizeGuard } from './packet-size-guard.js'
import type { PublishGate } from './publish-gate.js'
import { holdDeliveriesDuringReplay } from './resume-order.js'
import type { ResumeReplays } from './store/queue-replay.js'

export type AuthenticateHook = NonNullable<AedesOptions['authenticate']>
export type AuthorizeSubscribeHook = (
  client: Client,
  subscription: Subscription,
  callback: (error: Error | null, subscription?: Subscription | null) => void,
) => void
export type PreConnectHook = (
  client: Client,
  packet: ConnectPacket,
  callback: (error: Error | null, success: boolean) => void,
) => void

export interface BrokerOptions {
  mqtt: MqttConfig
  gatewayId: string
  gate: PublishGate
  logger: Logger
  authenticate?: AuthenticateHook
  authorizeSubscribe?: AuthorizeSubscribeHook
  /** Filters delivery to subscribers by the ACL's read rules. */
  authorizeForward?: AedesOptions['authorizeForward']
  /** Connection limits and flapping bans run here, before the CONNECT is processed. */
  preConnect?: PreConnectHook
  /** Inbound QoS 2 messages awaiting PUBREL per client (aedes' receive window). */
  maxInflightInbound?: number
  /** aedes' persistence (store/); undefined: aedes' in-memory store. */
  persistence?: unknown
  /** The store's replays of resumed sessions' queues, which live deliveries wait for (resume-order.ts). */
  replays?: ResumeReplays
}

/** aedes' own mqtt-packet, and the bl it buffers with: not whichever copies a bare import would find. */
const aedesRequire = createRequire(createRequire(import.meta.url).resolve('aedes'))
const mqttPacketPath = aedesRequire.resolve('mqtt-packet')

interface BufferListClass {
  new (): object
}

/**
 * mqtt-packet writes a packet identifier or a length from a table of 65,536 two-byte Buffers it
 * builds on its first write: 7 MB of heap (the Buffer objects, not their bytes) that a gateway with
 * a few devices never earns back. Without it each number is written from a fresh 2-byte slice of
 * Node's buffer pool. (MQTT.js turns the table off the same way, with its `writeCache: false`.)
 */
function lightenMqttPacket(): void {
  const mqttPacket = aedesRequire(mqttPacketPath) as { writeToStream: { cacheNumbers: boolean } }
  mqttPacket.writeToStream.cacheNumbers = false
}

/** bl's plain BufferList: what mqtt-packet's parser buffers its input in, without a stream around it. */
const BufferList = (createRequire(mqttPacketPath)('bl') as { BufferList: BufferListClass }).BufferList

/**
 * mqtt-packet's parser keeps the bytes of a packet not yet complete in a `bl()`: a BufferListStream,
 * a whole Duplex stream (two stream states, an event table: about 0.5 KB per connection) of which the
 * parser uses only the list methods (append, consume, slice, readUInt8...). A plain BufferList has the
 * same methods. (The parser makes a new `bl()` only after an error, when aedes closes the client.)
 */
function lightenParser(parser: { _list?: unknown }): void {
  const list = parser._list as { length?: number } | undefined
  if (list !== undefined && list.length === 0) parser._list = new BufferList()
}

const kEmptyIdWithSession = Symbol('edgebridge.emptyClientIdWithSession')
const kIllFormedId = Symbol('edgebridge.illFormedClientId')
type MarkedClient = Client & { [kEmptyIdWithSession]?: boolean; [kIllFormedId]?: boolean }

export interface ClientCloseCounters {
  /** Clients closed because of an error (malformed or oversize packet, protocol violation...). */
  closedOnError: number
  oversizePackets: number
}

export async function createBroker(
  options: BrokerOptions,
): Promise<{ broker: Aedes; counters: ClientCloseCounters }> {
  const { mqtt, logger, gate } = options
  const counters: ClientCloseCounters = { closedOnError: 0, oversizePackets: 0 }
  lightenMqttPacket()

  const preConnect: PreConnectHook = (client, packet, callback) => {
    // [MQTT-3.1.2-22] a Password without a User Name is a malformed CONNECT: close without CONNACK
    // [MQTT-4.8.0-1]. mqtt-packet parses it, aedes would hand the password to authenticate.
    if (packet.password !== undefined && packet.username === undefined) {
      return callback(new Error('password flag set without user name flag [MQTT-3.1.2-22]'), false)
    }
    // [MQTT-3.1.3-8] zero-byte ClientId and CleanSession 0: CONNACK 0x02, then close.
    if (packet.clientId === '' && packet.clean === false) (client as MarkedClient)[kEmptyIdWithSession] = true
    // [MQTT-1.5.3-1] an ill-formed UTF-8 client id (decoded to U+FFFD by mqtt-packet) is refused: it
    // would become a Kafka key and a record header that other devices' ids could collide with.
    if (packet.clientId.includes('\ufffd')) (client as MarkedClient)[kIllFormedId] = true
    if (options.preConnect) options.preConnect(client, packet, callback)
    else callback(null, true)
  }

  const authenticate: AuthenticateHook = (client, username, password, done) => {
    if ((client as MarkedClient)[kEmptyIdWithSession]) {
      const err = new Error('zero-byte client id requires CleanSession=1 [MQTT-3.1.3-8]') as AuthenticateError
      err.returnCode = 2
      return done(err, false)
    }
    if ((client as MarkedClient)[kIllFormedId]) {
      const err = new Error('client id is not well-formed UTF-8 [MQTT-1.5.3-1]') as AuthenticateError
      err.returnCode = 2
      return done(err, false)
    }
    if (options.authenticate) options.authenticate(client, username, password, done)
    else done(null, true)
  }

  const broker = await Aedes.createBroker({
    id: options.gatewayId,
    maxTopicLevels: mqtt.maxTopicLevels,
    drainTimeout: mqtt.drainTimeoutMs,
    connectTimeout: mqtt.connectTimeoutMs,
    heartbeatInterval: mqtt.heartbeatIntervalMs,
    maxClientsIdLength: mqtt.maxClientIdLength,
    maxInflightInbound: options.maxInflightInbound ?? 1000,
    ...(options.persistence !== undefined ? { persistence: options.persistence } : {}),
    preConnect,
    authenticate,
    authorizePublish: gate.authorizePublish,
    ...(options.authorizeSubscribe ? { authorizeSubscribe: options.authorizeSubscribe } : {}),
    ...(options.authorizeForward ? { authorizeForward: options.authorizeForward } : {}),
  })

  // Every connection, from every listener, enters through broker.handle: guard its byte stream there.
  const handle = broker.handle.bind(broker)
  const guardedParse = packetSizeGuardedParse(counters)
  broker.handle = (conn, req) => {
    const client = handle(conn, req)
    if (options.replays !== undefined) holdDeliveriesDuringReplay(client, options.replays)
    const parser = (client as unknown as { _parser: GuardedParser })._parser
    lightenParser(parser)
    parser[kSizeGuard] = new PacketSizeGuard(mqtt.maxPacketBytes)
    parser.parse = guardedParse
    return client
  }

  broker.on('clientDisconnect', (client) => gate.clientGone(client))
  broker.on('clientError', (client, err) => {
    counters.closedOnError++
    gate.clientGone(client)
    logger.warn(
      { clientId: client.id, remote: remoteAddress(client), reason: err.message },
      'client closed on error',
    )
  })
  broker.on('connectionError', (client, err) => {
    counters.closedOnError++
    logger.warn(
      { remote: remoteAddress(client), reason: err.message },
      'connection closed on error before CONNECT completed',
    )
  })
  return { broker, counters }
}

const kSizeGuard = Symbol('edgebridge.packetSizeGuard')

/** mqtt-packet's parser as aedes gives each client one (`client._parser`, with `parser.client`). */
interface GuardedParser {
  parse(buf: Buffer): unknown
  client: { emit(event: string, err: Error): void }
  _list?: unknown
  [kSizeGuard]: PacketSizeGuard
}

/**
 * aedes reads each chunk and hands it to `client._parser.parse`; checking the chunk just before the
 * parser sees it lets the guard close an oversize packet at its header, before it is buffered.
 * One function serves every parser (each keeps its guard under `kSizeGuard`): no closure per
 * connection. (aedes is pinned to 1.2.x; test/integration/ingress-malformed.test.ts fails if this
 * hook point moves.)
 */
function packetSizeGuardedParse(
  counters: ClientCloseCounters,
): (this: GuardedParser, buf: Buffer) => unknown {
  return function guardedParse(this: GuardedParser, buf: Buffer): unknown {
    const violation = this[kSizeGuard].feed(buf)
    if (violation === undefined) return (Object.getPrototypeOf(this) as GuardedParser).parse.call(this, buf)
    if (violation.kind === 'too-large') counters.oversizePackets++
    const reason =
      violation.kind === 'too-large'
        ? `packet of ${violation.bytes} bytes exceeds mqtt.maxPacketBytes (${violation.limit})`
        : 'malformed remaining length [MQTT-2.2.3]'
    // Emitting 'error' on the client makes aedes close it and emit clientError / connectionError.
    this.client.emit('error', new Error(reason))
    return undefined
  }
}

function remoteAddress(client: Client): string | undefined {
  const conn = client.conn as { remoteAddress?: string; remotePort?: number } | undefined
  if (conn?.remoteAddress === undefined) return undefined
  return `${conn.remoteAddress}:${conn.remotePort ?? ''}`
}
