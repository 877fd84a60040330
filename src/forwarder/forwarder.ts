/**
 * The forwarder: spool.read (FIFO) -> backend.send(batch) -> spool.commit.
 *
 * Invariants (DESIGN.md 2 and 3):
 * - A record is committed (may leave the spool) only after `backend.send` resolved for its batch:
 *   the core confirmed it.
 * - One batch at a time, in spool order, so the records of one device are never reordered. A failed
 *   batch is sent again whole, never split or skipped: at-least-once.
 * - A retriable error (the core is away, a timeout) is retried with exponential back-off and full
 *   jitter, ending early when the client reconnects.
 * - A non-retriable error (a wrong password, a topic or stream that does not exist, an ACL at the
 *   core) means the same batch cannot succeed until an operator changes something outside
 *   edgebridge. The forwarder is then `blocked`: the batch stays at the head of the spool (nothing
 *   is dropped, skipped or reordered; the spool keeps accepting until full), one error line says
 *   what the core answered and that forwarding waits for it to be fixed, and the core is probed
 *   with the same batch once every retryMaxMs, as nothing tells the gateway when it was fixed. The
 *   first probe that succeeds ends the block with one info line. Not a crash: under systemd a
 *   restart would change nothing and only lose the backlog's progress.
 * - BACKEND_REJECTED is about records, not the core: the record can never be sent, so it goes to
 *   the dead-letter file (deliver) and the records behind it move on.
 */
import type { ForwarderConfig } from '../config/types.js'
import { EdgebridgeError, errorMessage, isProgrammingError } from '../errors.js'
import type { Backend } from '../backends/backend.js'
import type { Logger } from '../observability/logger.js'
import type { SpooledRecord } from '../record.js'
import type { Spool } from '../spool/spool.js'
import { backoffDelayMs, sleep } from './backoff.js'
import { Pacer } from './pacer.js'
import type { DeadLetterSink } from './dead-letter.js'

export interface ForwarderCounters {
  /**
   * Records the core confirmed that were still in the spool when it did: a record drop-oldest took
   * from under a batch in flight is counted dropped by the spool, not forwarded here, and a record
   * moved to the dead-letter file is counted in `deadLettered` only. So every record the spool
   * admitted is exactly one of forwarded, in the spool, dropped or dead-lettered (DESIGN.md 8).
   */
  forwarded: number
  batches: number
  sendFailures: number
  /** Consecutive failures of the current batch; 0 while healthy. */
  consecutiveFailures: number
  lastError: string | undefined
  /** Records the core refused for good, moved to the dead-letter file. */
  deadLettered: number
}

/** Told of each send and each confirmed batch (the metrics): cheap, synchronous, never throwing. */
export interface ForwarderObserver {
  /** One `backend.send` settled after `seconds`; `ok` false when it failed. */
  sent(seconds: number, ok: boolean): void
  /** The core confirmed `batch` and the spool committed it (the end-to-end ages are taken now). */
  confirmed(batch: readonly SpooledRecord[]): void
}

/** How often a retry wait checks whether the core's client has reconnected (100 ms). */
const RECONNECT_POLL_MS = 100

/**
 * `retrying`: the core did not confirm and a retry waits out its back-off; `blocked`: the core
 * refused the batch with a non-retriable error and forwarding waits for an operator (see above).
 */
export type ForwarderState = 'idle' | 'forwarding' | 'retrying' | 'blocked' | 'stopped'

export class Forwarder {
  readonly counters: ForwarderCounters = {
    forwarded: 0,
    batches: 0,
    sendFailures: 0,
    consecutiveFailures: 0,
    lastError: undefined,
    deadLettered: 0,
  }
  private readonly abort = new AbortController()
  private readonly pacer: Pacer
  private loop: Promise<void> | undefined
  private inFlight = false
  private state: ForwarderState = 'idle'
  /** When the loop last showed it moves (a read, a send settling, a retry wait's poll): the watchdog's question. */
  private lastSignOfLife = Date.now()
  /** Inside spool.read with nothing to read, or pacing a replay: waiting, not stuck. */
  private waitingForRecords = false
  /** Set by whoever watches (metrics); none by default. */
  observer: ForwarderObserver | undefined

  constructor(
    private readonly spool: Spool,
    private readonly backend: Backend,
    private readonly config: ForwarderConfig,
    private readonly logger: Logger,
    /** Without one, a refused record is retried like any failure (and blocks those behind it). */
    private readonly deadLetter?: DeadLetterSink,
    /** The jitter's source of randomness (tests fix it). */
    private readonly random: () => number = Math.random,
  ) {
    this.pacer = new Pacer(config.replayRateLimit)
  }

  start(): void {
    if (this.loop !== undefined) return
    this.loop = this.run().catch((err: unknown) => {
      // Only a bug gets here (the loop handles every send error); say so loudly, once.
      this.logger.fatal({ err }, 'forwarder stopped by an unexpected error')
      throw err
    })
  }

  getState(): ForwarderState {
    return this.state
  }

  /**
   * How long the loop has shown no sign of life, in ms: 0 while it waits for records (an empty spool)
   * or is not running. A retry wait polls, so it stays near 0 through a long outage; a send or a
   * commit that never settles (a wedged client, a hung disk) makes it grow. The systemd watchdog
   * stops its pings when it grows too large (observability/watchdog.ts).
   */
  stalledForMs(): number {
    if (this.loop === undefined || this.waitingForRecords || this.state === 'stopped') return 0
    return Math.max(0, Date.now() - this.lastSignOfLife)
  }

  private alive(): void {
    this.lastSignOfLife = Date.now()
  }

  /**
   * Stops forwarding. Keeps sending what is spooled for up to `drainTimeoutMs` first (so a memory
   * spool loses as little as possible and a disk spool has less to replay), then aborts the
   * batch in flight; its records stay in the spool. Safe to call twice.
   */
  async stop(drainTimeoutMs = this.config.drainTimeoutMs): Promise<void> {
    if (this.loop === undefined) return
    const deadline = Date.now() + drainTimeoutMs
    while (Date.now() < deadline && (this.inFlight || this.spool.stats().depthRecords > 0)) {
      // The core is away or refuses: draining would only wait out the timeout.
      if (this.state === 'retrying' || this.state === 'blocked') break
      await sleep(20)
    }
    this.abort.abort()
    await this.loop.catch(() => undefined)
    this.state = 'stopped'
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal
    const limits = { maxRecords: this.config.batchMaxRecords, maxBytes: this.config.batchMaxBytes }
    while (!signal.aborted) {
      this.state = 'idle'
      // try/finally rather than .finally(): no extra promise and closure per batch.
      this.waitingForRecords = true
      let batch: SpooledRecord[]
      try {
        batch = await this.spool.read(limits, signal)
      } finally {
        this.waitingForRecords = false
      }
      this.alive()
      if (batch.length === 0) continue
      this.inFlight = true
      try {
        if (this.pacer.paces) {
          // Pacing a replay (forwarder.replayRateLimit) is waiting on purpose, however long: not a stall.
          this.waitingForRecords = true
          try {
            await this.pacer.take(batch.length, signal)
          } finally {
            this.waitingForRecords = false
          }
          this.alive()
        }
        const deadLetteredBefore = this.counters.deadLettered
        const sent = await this.deliver(batch, signal)
        if (!sent) return
        // What the commit took off the spool, not batch.length: see ForwarderCounters.forwarded.
        const committed = await this.spool.commit((batch[batch.length - 1] as SpooledRecord).seq)
        this.counters.forwarded += Math.max(0, committed - (this.counters.deadLettered - deadLetteredBefore))
        this.counters.batches++
        this.observer?.confirmed(batch)
      } finally {
        this.inFlight = false
        this.alive()
      }
    }
  }

  /**
   * Delivers a batch: sent and confirmed, or, for records the core refuses for good, dead-lettered.
   * A refused batch is split in halves, sent in order, until the refused record stands alone; only
   * it goes to the dead-letter file. False when stopped first.
   */
  private async deliver(batch: readonly SpooledRecord[], signal: AbortSignal): Promise<boolean> {
    const outcome = await this.sendUntilConfirmed(batch, signal)
    if (outcome !== 'rejected') return outcome === 'sent'
    const error = this.counters.lastError ?? 'rejected by the core'
    if (batch.length === 1) {
      const record = batch[0] as SpooledRecord
      await (this.deadLetter as DeadLetterSink).put(record, error)
      this.counters.deadLettered++
      this.logger.error(
        {
          seq: record.seq,
          topic: record.topic,
          clientId: record.clientId,
          target: record.target,
          reason: error,
        },
        'the core refused this record for good; it was moved to the dead-letter file',
      )
      return true
    }
    const half = Math.ceil(batch.length / 2)
    return (await this.deliver(batch.slice(0, half), signal)) && this.deliver(batch.slice(half), signal)
  }

  /** Sends one batch until the core confirms it; false when stopped first. */
  private async sendUntilConfirmed(
    batch: readonly SpooledRecord[],
    signal: AbortSignal,
  ): Promise<'sent' | 'rejected' | 'stopped'> {
    let blocked = false
    for (let attempt = 0; !signal.aborted; attempt++) {
      if (!blocked) this.state = attempt === 0 ? 'forwarding' : 'retrying'
      const sendStart = performance.now()
      this.alive()
      try {
        await this.backend.send(batch, signal)
        this.alive()
        this.observer?.sent((performance.now() - sendStart) / 1000, true)
        if (blocked) {
          this.logger.info(
            { attempts: attempt + 1, records: batch.length },
            'the core accepted the batch; forwarding is no longer blocked',
          )
        } else if (this.counters.consecutiveFailures > 0) {
          this.logger.info(
            { attempts: attempt + 1, records: batch.length },
            'core confirmed the batch; forwarding resumed',
          )
        }
        this.counters.consecutiveFailures = 0
        this.counters.lastError = undefined
        return 'sent'
      } catch (err) {
        if (signal.aborted) return 'stopped'
        this.alive()
        this.observer?.sent((performance.now() - sendStart) / 1000, false)
        this.counters.sendFailures++
        this.counters.consecutiveFailures++
        this.counters.lastError = errorMessage(err)
        if (this.deadLetter && err instanceof EdgebridgeError && err.code === 'BACKEND_REJECTED') {
          this.logger.warn({ err, records: batch.length }, `core refused the batch: ${errorMessage(err)}`)
          return 'rejected'
        }
        const retriable = err instanceof EdgebridgeError && err.retriable && !isProgrammingError(err)
        if (retriable) {
          blocked = false
          const delay = backoffDelayMs(
            attempt,
            this.config.retryInitialMs,
            this.config.retryMaxMs,
            this.random,
          )
          this.logRetry(err, attempt, delay, batch)
          await this.waitToRetry(delay, signal)
        } else {
          if (!blocked) this.logBlocked(err, batch)
          blocked = true
          this.state = 'blocked'
          await this.waitToRetry(this.config.retryMaxMs, signal)
        }
      }
    }
    return 'stopped'
  }

  /**
   * Waits out the back-off, but not past the moment the backend's client reconnects on its own
   * (ioredis and nats.js do): after an hour-long outage the back-off has grown to retryMaxMs, and
   * the backlog should start draining when the core is back, not up to that long after.
   */
  private async waitToRetry(delayMs: number, signal: AbortSignal): Promise<void> {
    const wasConnected = this.backend.isConnected()
    const deadline = Date.now() + delayMs
    while (!signal.aborted && Date.now() < deadline) {
      await sleep(Math.min(RECONNECT_POLL_MS, deadline - Date.now()), signal)
      this.alive()
      if (!wasConnected && this.backend.isConnected()) return
    }
  }

  private logRetry(err: unknown, attempt: number, delayMs: number, batch: readonly SpooledRecord[]): void {
    // The first failure and every tenth after it: a long outage stays visible without flooding.
    if (attempt !== 0 && attempt % 10 !== 0) return
    this.logger.warn(
      { err, attempt: attempt + 1, retryInMs: delayMs, firstSeq: batch[0]?.seq, records: batch.length },
      `core did not confirm the batch: ${errorMessage(err)}`,
    )
  }

  /** Once per block: what the core said, and that nothing moves until it is fixed. */
  private logBlocked(err: unknown, batch: readonly SpooledRecord[]): void {
    this.logger.error(
      {
        err,
        retriable: false,
        probeEveryMs: this.config.retryMaxMs,
        firstSeq: batch[0]?.seq,
        records: batch.length,
      },
      `forwarding is blocked: the core refused the batch (${errorMessage(err)}); it stays in the spool ` +
        'and is sent again once the core accepts it',
    )
  }
}
