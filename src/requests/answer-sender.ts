/**
 * Sends each request's answer to the core once it is known, and lets a transport wait, on close,
 * until the answers already given are sent. A send that fails is logged once here, where it is
 * handled: the requester gets nothing and sees its own timeout.
 */
import { errorMessage } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { RequestAnswer } from './request-answer.js'
import type { RequestCall } from './request-transport.js'
import type { Subscription } from '../backends/backend.js'

export class AnswerSender {
  private readonly sending = new Set<Promise<void>>()

  constructor(private readonly logger: Logger) {}

  /**
   * Calls `send` with the call's answer once known; `to` names the reply address in the log. With
   * `redelivers` (an acknowledging core) a request that was not handed over gets no answer now: the
   * core delivers it again and the requester gets the answer of that delivery, not two.
   */
  later(call: RequestCall, to: string, send: (answer: RequestAnswer) => unknown, redelivers = false): void {
    const answer = redelivers
      ? call.settled.then(
          () => call.answer,
          () => undefined,
        )
      : call.answer
    const sent = answer
      .then(async (a) => {
        if (a === undefined) return
        try {
          await send(a)
        } catch (err) {
          this.logger.warn({ err: errorMessage(err), to, id: a.id }, 'answer could not be sent to the core')
        }
      })
      .finally(() => this.sending.delete(sent))
    this.sending.add(sent)
  }

  /** Resolves once every answer given so far has been sent (or failed). */
  async idle(): Promise<void> {
    await Promise.all([...this.sending])
  }
}

/**
 * What a transport's serve() returns: stop reading requests, send the answers already given, then
 * release the connection that sends them.
 */
export function servedRequests(
  reading: Subscription,
  sender: AnswerSender,
  release: () => Promise<void>,
): Subscription {
  let closing: Promise<void> | undefined
  return {
    close() {
      closing ??= (async () => {
        await reading.close()
        await sender.idle()
        await release()
      })()
      return closing
    },
  }
}
