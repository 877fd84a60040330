/**
 * Runs tasks one after another in push order: event-emitter subscriptions (Redis pub/sub) hand the
 * downlink one message at a time, so commands reach devices in the order the core sent them.
 */
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve()

  /** `task` must not reject (the caller handles its errors). */
  push(task: () => Promise<void>): void {
    this.tail = this.tail.then(task)
  }

  /** Resolves when everything pushed so far has run. */
  idle(): Promise<void> {
    return this.tail
  }
}
