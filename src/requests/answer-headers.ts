/**
 * The names an answer carries besides its payload, the same on every backend: NATS and Kafka headers,
 * Redis stream fields and the Redis pub/sub answer envelope. `correlation-id` is Hono's name.
 */
import type { RequestAnswer } from './request-answer.js'

export const ANSWER_FIELDS = {
  status: 'status',
  correlationId: 'correlation-id',
  device: 'device-id',
  /** `gateway` when edgebridge answered in the device's place, else `device`. */
  origin: 'origin',
  /** Why the gateway answered. */
  reason: 'reason',
} as const

/** The answer's fields other than the payload, as strings. */
export function answerFields(answer: RequestAnswer): Record<string, string> {
  const out: Record<string, string> = {
    [ANSWER_FIELDS.status]: answer.status,
    [ANSWER_FIELDS.correlationId]: answer.id,
    [ANSWER_FIELDS.device]: answer.device,
    [ANSWER_FIELDS.origin]: answer.origin,
  }
  if (answer.reason !== undefined) out[ANSWER_FIELDS.reason] = answer.reason
  return out
}
