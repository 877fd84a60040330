/**
 * The replay of a resumed persistent session's queue, and the rule that keeps it first.
 *
 * When a clean=false client reconnects, aedes 1.2 restores its subscriptions (live deliveries can
 * start), sends the CONNACK and only then streams the queued messages to it (connect.js `emptyQueue`).
 * A live message published meanwhile is queued for the client too (it has a stored subscription) and
 * delivered live at once, so without a rule it overtakes the older queued messages: the device got
 * c1, c4, c2, c3 where the core sent c1..c4. The spec wants the order kept: a server re-sends
 * unacknowledged messages in their original order, and messages to the same topic at the same QoS
 * reach a subscriber in the order they were published [MQTT-4.6.0-1] [MQTT-4.6.0-6].
 *
 * So a replay is open from the moment aedes asks for the session's subscriptions until aedes handled
 * the last row the replay read. Meanwhile live QoS 1/2 deliveries to that client wait (resume-order.ts
 * holds them); once it is over, a live delivery whose message the replay already sent from the queue
 * is not sent a second time, and the others go out in the order they were published.
 */

/** Longest a replay may take to start: a connect that fails between its steps must not hold deliveries. */
const START_WAIT_MS = 10_000 // 10 s

/** What a live delivery to a resuming client asks: ResumeReplays.replayOf(). */
export interface ReplayView {
  /** Resolves when the queue has been replayed (or the replay was abandoned for a newer connect). */
  readonly done: Promise<void>
  /** Did the replay send this message (same broker id and counter) from the queue? */
  sent(packet: { brokerId?: unknown; brokerCounter?: unknown }): boolean
}

/** The store's side: which clients are resuming. */
export interface ResumeReplays {
  /** The replay in progress for `clientId`, if its session is being resumed. */
  replayOf(clientId: string): ReplayView | undefined
}

export class QueueReplay implements ReplayView {
  /** Once the rows ran out: the last one read, whose handling ends the replay (null: none read). */
  private finalSeq: number | null | undefined
  /** The highest row aedes handled (sent, or cleared) since the replay began. */
  private lastHandled = 0
  readonly done: Promise<void>
  /** Messages the replay read from the queue, as `brokerId:brokerCounter` (at most the queue's limit). */
  private readonly read = new Set<string>()
  private resolve: () => void = () => undefined
  private readonly startTimer: NodeJS.Timeout

  constructor(private readonly onEnd: (replay: QueueReplay) => void) {
    this.done = new Promise<void>((resolve) => (this.resolve = resolve))
    this.startTimer = setTimeout(() => this.finish(), START_WAIT_MS)
    this.startTimer.unref()
  }

  /** aedes started reading the queue: from now on only its last row ends the replay. */
  started(): void {
    clearTimeout(this.startTimer)
  }

  /** A queued message the replay hands to aedes. */
  reading(brokerId: string | null, brokerCounter: number | null): void {
    if (brokerId !== null && brokerCounter !== null) this.read.add(`${brokerId}:${brokerCounter}`)
  }

  /**
   * The queue stream ran out of rows; `finalSeq` is the last it read (undefined: none). The stream
   * reads ahead of aedes' sending, so the replay ends when aedes handled that row, not now.
   */
  readAll(finalSeq: number | undefined): void {
    this.finalSeq = finalSeq ?? null
    if (this.finalSeq === null || this.lastHandled >= this.finalSeq) this.finish()
  }

  /** aedes sent row `seq` (outgoingUpdate) or cleared it (a PUBACK, or a message it would not send). */
  handled(seq: number | undefined): void {
    if (seq === undefined) return
    this.lastHandled = Math.max(this.lastHandled, seq)
    if (this.finalSeq !== undefined && this.finalSeq !== null && this.lastHandled >= this.finalSeq) {
      this.finish()
    }
  }

  sent(packet: { brokerId?: unknown; brokerCounter?: unknown }): boolean {
    return this.read.has(`${String(packet.brokerId)}:${String(packet.brokerCounter)}`)
  }

  /** Ends the replay (its last row was handled, or a newer connect of the client replaces it). */
  finish(): void {
    clearTimeout(this.startTimer)
    this.onEnd(this)
    this.resolve()
  }
}
