/**
 * Requests read by one of the downlink's acknowledging readers (Redis Streams entries, Kafka records):
 * the reply address and request id come from the fields each convention names; the reader
 * acknowledges a request only once it reached the broker for the device or got a final answer without
 * it (RequestCall.settled), and one that could not be handed over gets no answer now: it is read again
 * and answered then. A request without a reply address is dropped with a rate-limited log line:
 * nobody could be told.
 */
import type { DownlinkHandler } from '../backends/backend.js'
import type { RateLimitedLog } from '../observability/rate-limited-log.js'
import type { AnswerSender } from './answer-sender.js'
import type { RequestAnswer } from './request-answer.js'
import type { CoreRequest, RequestHandler } from './request-transport.js'

export function acknowledgedRequests(options: {
  handle: RequestHandler
  /** The header or field names of the reply address and the request id. */
  fields: { replyTo: string; id: string }
  sender: AnswerSender
  dropLog: RateLimitedLog
  /** Sends one answer to `replyTo` the backend's way. */
  send: (replyTo: string, answer: RequestAnswer) => Promise<unknown>
}): DownlinkHandler {
  const { handle, fields, sender, dropLog, send } = options
  return async (message) => {
    const headers = message.headers ?? {}
    const replyTo = headers[fields.replyTo]
    if (replyTo === undefined || replyTo === '') {
      dropLog.warn(
        { source: message.source, subject: message.subject },
        `request without ${fields.replyTo}; dropped`,
      )
      return
    }
    const request: CoreRequest = {
      source: message.source,
      subject: message.subject,
      payload: message.payload,
      headers,
      ...(message.key === undefined ? {} : { key: message.key }),
    }
    const id = headers[fields.id]
    if (id !== undefined) request.id = id
    const call = handle(request)
    sender.later(call, replyTo, (answer) => send(replyTo, answer), true)
    // Rejects when the request could not be handed over: the reader does not acknowledge it.
    await call.settled
  }
}
