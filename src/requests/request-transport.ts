/**
 * How requests arrive from a core and how answers go back: one small interface, one implementation per
 * backend next to its downlink subscriber (backends/<name>/*-request-transport.ts). Its doc is its
 * contract.
 *
 * `serve(sources, handle, groupId)`:
 * - `sources` are request rule sources in the core's own syntax (as downlink sources). For every
 *   request read from them the transport calls `handle` once, builds a CoreRequest with the backend's
 *   reply address (NATS reply inbox, Redis reply channel or stream, Kafka reply-to topic) and sends
 *   the answer `handle` resolves with to that address, in the backend's format (README, "Request/reply").
 *   A request without a reply address is dropped with a (rate-limited) log line: nobody could be told.
 * - Requests are handled concurrently: one slow device never holds up another's request.
 * - `settled` tells an acknowledging backend (Kafka, Redis Streams) when it may acknowledge the
 *   request: resolved once the request reached the broker for the device or got a final answer
 *   without it; rejected when it could not be handed over (gateway stopping): the backend leaves it
 *   unacknowledged and delivers it again later (at-least-once; the device de-duplicates by id).
 * - `groupId` shares requests among gateways as the downlink does (queue group, consumer group).
 * - Like Backend.subscribe it resolves once set up or being retried in the background, and never
 *   rejects only because the core is down. The returned `close()` stops reading new requests and
 *   waits until the answers already given have been sent (or failed); safe to call twice.
 */
import type { Backend, Subscription } from '../backends/backend.js'
import type { EdgebridgeConfig } from '../config/types.js'
import type { Logger } from '../observability/logger.js'
import type { RequestAnswer } from './request-answer.js'

/** A request as the core gave it. */
export interface CoreRequest {
  /** The rule source it came through. */
  source: string
  /** The concrete name it was published to: NATS subject, Redis channel or stream key, Kafka topic. */
  subject: string
  payload: Buffer
  /** NATS or Kafka headers, Redis stream fields; Redis pub/sub: the envelope's fields. */
  headers: Record<string, string>
  /** The Kafka record key. */
  key?: string
  /** The core's correlation id when its convention carries one; else the gateway makes one. */
  id?: string
}

export interface RequestCall {
  answer: Promise<RequestAnswer>
  settled: Promise<void>
}

export type RequestHandler = (request: CoreRequest) => RequestCall

export interface RequestTransport {
  serve(sources: readonly string[], handle: RequestHandler, groupId: string): Promise<Subscription>
}

export type RequestTransportFactory = (
  config: EdgebridgeConfig,
  backend: Backend,
  logger: Logger,
) => RequestTransport
