/**
 * The one interface between the forwarder and a core (Kafka, NATS, Redis). Its doc is its contract.
 *
 * Lifecycle: `connect()` creates the client and starts connecting. It resolves once the client
 * exists; it must not reject only because the core is unreachable right now: the gateway keeps
 * accepting into the spool and `send` fails retriably until the core is back. It rejects only for
 * configuration the backend can never work with (a bad URL, an unreadable credentials file).
 *
 * `send(batch)`:
 * - The batch is a run of consecutive spooled records in FIFO order. The backend publishes them in
 *   that order (for Kafka: per partition, which keeps one device's records in order).
 * - Resolving means the core confirmed *every* record in the batch, in the sense of the backend's
 *   ack (README, "What the core's ack means"): Kafka produce response with acks=-1, JetStream PubAck,
 *   Redis reply, NATS flush round trip. Only then does the forwarder commit the batch in the spool.
 * - Rejecting (with a BackendError) means the forwarder will send the *whole* batch again: some
 *   records may reach the core twice. That is the at-least-once guarantee; JetStream drops the
 *   duplicates by msgID = deduplicationId(). What the error says decides when:
 *   - `retriable: true`: the core is away or slow (BACKEND_UNAVAILABLE, a timeout). The forwarder
 *     retries with back-off and jitter, sooner once the client reconnects.
 *   - `retriable: false`: the same batch cannot succeed until an operator changes something outside
 *     edgebridge (BACKEND_AUTH: credentials; a topic or stream that does not exist; an ACL at the
 *     core). The forwarder is `blocked`: the batch stays at the head of the spool (nothing dropped
 *     or reordered), one error line names the code, and the batch is sent again once every
 *     forwarder.retryMaxMs until the core takes it.
 *   - BACKEND_REJECTED: a record in the batch can never be sent (too large, a codec the core cannot
 *     carry). The forwarder narrows the batch down to that record and moves it to the dead-letter
 *     file; the others are delivered.
 * - The backend does not retry on its own beyond what its client library does within one call;
 *   retries with back-off belong to the forwarder. One `send` at a time (the forwarder awaits).
 * - `signal` aborts a send during shutdown; the backend rejects with ABORTED and the records stay in
 *   the spool.
 *
 * `close()` releases the connection; it is safe to call twice and after a failed `connect`.
 *
 * `subscribe(sources, onMessage, groupId)` (optional; the downlink, core -> devices):
 * - `sources` are names in the core's own syntax: NATS subjects with `*`/`>`, Redis PSUBSCRIBE
 *   patterns, Redis stream keys, Kafka topics. The backend delivers each message once to `onMessage`,
 *   one at a time per source (the next waits for the previous promise), so commands keep their order.
 * - `onMessage` resolving means the message reached the devices (ingress.publishToDevices resolved);
 *   only then does a backend with acknowledgements acknowledge it (Kafka: the offset is committed;
 *   Redis Streams: XACK). Rejecting means "not delivered": such a backend delivers it again later
 *   (at-least-once); NATS and Redis pub/sub have nothing to redeliver from (at-most-once).
 * - `groupId` shares the work: gateways with the same groupId split the messages (NATS queue group,
 *   Kafka consumer group, Redis consumer group); different groupIds each get every message. Redis
 *   pub/sub has no groups: every subscriber gets every message.
 * - It resolves once the subscription is set up or, while the core is unreachable, once it is being
 *   retried in the background: like `connect`, it never rejects only because the core is down. It uses
 *   its own connection, so a slow device never holds up `send`.
 * - The returned `close()` stops delivery (an `onMessage` in flight finishes first); safe twice.
 */
import type { Logger } from '../observability/logger.js'
import type { EdgebridgeConfig, BackendName } from '../config/types.js'
import type { SpooledRecord } from '../record.js'

export interface Backend {
  readonly name: BackendName
  connect(): Promise<void>
  send(batch: readonly SpooledRecord[], signal?: AbortSignal): Promise<void>
  /** True when the client currently has a connection to the core (for health and logs). */
  isConnected(): boolean
  /**
   * The largest MQTT payload the core can ever take as one record, once known (NATS: the server's
   * max_payload less room for the provenance headers), else undefined. The ingress refuses a larger
   * publish *before* acknowledging it: a record the core can never accept must not be promised.
   */
  maxPayloadBytes?(): number | undefined
  /** The downlink: deliver messages from the core's `sources` to `onMessage` (see the contract above). */
  subscribe?(sources: readonly string[], onMessage: DownlinkHandler, groupId: string): Promise<Subscription>
  close(): Promise<void>
}

/** A message from the core for the devices. */
export interface DownlinkMessage {
  /** The configured source this message came through (the pattern, subject filter, topic or stream key). */
  source: string
  /** The concrete name it was published to: NATS subject, Redis channel or stream key, Kafka topic. */
  subject: string
  payload: Buffer
  /** NATS headers, Kafka headers, Redis stream fields other than `payload`; Redis pub/sub has none. */
  headers?: Record<string, string>
  /** The Kafka record key, when there is one. */
  key?: string
}

export type DownlinkHandler = (message: DownlinkMessage) => Promise<void>

export interface Subscription {
  /** Stop delivering; an onMessage in flight finishes first. Safe to call twice. */
  close(): Promise<void>
}

export interface BackendDeps {
  logger: Logger
}

export type BackendFactory = (config: EdgebridgeConfig, deps: BackendDeps) => Backend
