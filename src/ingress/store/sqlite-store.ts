/**
 * The durable broker store: aedes-persistence 11's interface (the one aedes 1.2 calls, promise-based)
 * on SQLite, in one file under dataDir (DESIGN.md invariant 7).
 *
 * Why SQLite (through better-sqlite3): the state is small, relational and changed in many small
 * transactions (one per aedes call: a subscription, a queued message, a PUBREL), which is what SQLite's
 * WAL does well; it is the most tested embedded store there is, recovers its own journal after a crash
 * or power loss, and needs no server on a Raspberry Pi. LevelDB (aedes-persistence-level) would need
 * its own indexes for order and limits; writing a log of our own like the spool would repeat the spool's
 * recovery work for data that is keyed, updated and deleted in place. better-sqlite3 is synchronous:
 * every call below has committed (and, with synchronous = FULL, fsynced the WAL) when it returns, so a
 * promise that resolves means "durable" without a second round trip. The price is that the event loop
 * waits for that fsync; only calls that change state pay it, and only clean=false sessions, retained
 * messages and QoS 2 make such calls (docs/benchmarks.md has the measured cost).
 *
 * Contract with aedes, beyond the abstract suite (test/unit/broker-store-abstract.test.ts):
 * - Each method runs in one transaction: a crash leaves a call done or not done, never half done.
 * - The same message enqueued twice for a client (same broker id and counter) is kept once: ingress
 *   stores a QoS 1 message before its PUBACK and aedes enqueues it again afterwards (durable-ack.ts).
 * - setup() moves aedes' message counter past every counter stored for this broker id, so messages
 *   queued after a restart sort after those queued before it (aedes drops a delivery whose counter is
 *   not above the last one a client saw from that broker id as a duplicate).
 * - Wills stored by a previous run (the gateway crashed under its clients) are handed back to aedes
 *   under a broker id that is no longer alive, so aedes' will sweep publishes them.
 * - Bounded: a client's queue keeps at most `maxQueuedMessages` messages and `maxQueuedBytes` bytes
 *   (the oldest are dropped); at most `maxRetainedMessages` topics keep a retained message (a new one
 *   beyond that is not retained). Every drop is counted and logged with its reason.
 */
import { Readable } from 'node:stream'
import aedesPacket from 'aedes-packet'
import { QlobberTrue } from 'qlobber'
import QlobberSub from 'qlobber/aedes/qlobber-sub.js'
import type { Logger } from '../../observability/logger.js'
import { RateLimitedLog } from '../../observability/rate-limited-log.js'
import { decodePacket, encodePacket, PayloadKind } from './packet-codec.js'
import type { Statement } from 'better-sqlite3'
import { openStoreDatabase, type StoreDatabase } from './open-database.js'
import { QueueReplay, type ReplayView, type ResumeReplays } from './queue-replay.js'
import { newStoreCounters, type StoreCounters } from './store-counters.js'

export interface SqliteStoreOptions {
  /** The database file; ':memory:' for tests that need no file. */
  path: string
  maxQueuedMessages: number
  maxQueuedBytes: number
  maxRetainedMessages: number
  logger: Logger
}

/** What aedes hands the store at setup: its id and message counter. */
export interface StoreBroker {
  id: string
  counter: number
}

type AnyPacket = Record<string, unknown> & { topic?: string; messageId?: number; cmd?: string }
interface Client {
  id: string
}
interface Sub {
  clientId: string
  topic: string
  qos: number
  rh?: number
  rap?: boolean
  nl?: boolean
}
interface PacketRow {
  fields: string
  payload: Buffer
  kind: PayloadKind
}
interface QueuedRow extends PacketRow {
  seq: number
  broker_id: string | null
  broker_counter: number | null
  message_id: number | null
  cmd: string
}
/** A QoS 1 message stored before its PUBACK, until aedes publishes it (storeBeforeAck). */
interface Early {
  retained: boolean
  /** Client id -> the row queued for it. */
  rows: Map<string, number>
}

/** aedes' packet class (its typings describe a namespace, the module exports the constructor). */
const Packet = aedesPacket as unknown as new (original: object, broker?: object) => AnyPacket

const QLOBBER_OPTIONS = { wildcard_one: '+', wildcard_some: '#', separator: '/', match_empty_levels: true }
/** Rows read per step when streaming a queue, so a long queue never sits in memory whole. */
const PAGE_ROWS = 256
/** A will stored by an earlier run is reported under this broker id, which no live broker has. */
const PREVIOUS_RUN = ':previous-run'

export class SqliteStore implements ResumeReplays {
  readonly counters: StoreCounters = newStoreCounters()
  private readonly db: StoreDatabase
  private readonly trie = new QlobberSub(QLOBBER_OPTIONS)
  private readonly dropLog: RateLimitedLog
  private retainedCount = 0
  /** Packets stored before their PUBACK, by payload object, until aedes' own calls for them. */
  private readonly early = new WeakMap<object, Early>()
  private readonly insertOutgoing: Statement
  /**
   * Prepared statements by their SQL, each prepared on first use and kept. Preparing one costs more
   * than running it, and one prepared per call holds its native memory (a compiled SQLite program,
   * unseen by V8) until a GC finalizes it: a burst of 2,000 connecting devices left 70 MB of it.
   */
  private readonly statements = new Map<string, Statement>()
  /** Clients whose queue is being replayed, by client id (queue-replay.ts). */
  private readonly replays = new Map<string, QueueReplay>()
  private storeBroker: StoreBroker | undefined
  private destroyed = false

  constructor(private readonly options: SqliteStoreOptions) {
    const opened = openStoreDatabase(options.path)
    this.db = opened.db
    this.dropLog = new RateLimitedLog(options.logger, 10_000)
    this.insertOutgoing = this.statement(
      `INSERT OR IGNORE INTO outgoing (client_id, broker_id, broker_counter, message_id, cmd, fields, payload, kind, bytes)
       VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?)`,
    )
    if (opened.problem !== undefined) {
      this.counters.openFailures++
      options.logger.error(
        { path: options.path, reason: opened.problem.reason, movedTo: opened.problem.movedTo },
        opened.problem.inMemory
          ? 'broker store cannot be used: broker state is kept in memory until the next start'
          : 'broker store was damaged: moved aside, starting with an empty broker state',
      )
    }
    this.inMemory = opened.problem?.inMemory ?? options.path === ':memory:'
  }

  /** The prepared statement of `sql` (kept: see `statements`). */
  private statement(sql: string): Statement {
    let prepared = this.statements.get(sql)
    if (prepared === undefined) {
      prepared = this.db.prepare(sql)
      this.statements.set(sql, prepared)
    }
    return prepared
  }

  /** True when the broker state is not on disk (the store could not be opened). */
  readonly inMemory: boolean

  /** aedes reads this to decide it may use the store (aedes 1.2: setup must be an async function). */
  get broker(): StoreBroker | undefined {
    return this.storeBroker
  }

  async setup(broker: StoreBroker): Promise<void> {
    this.storeBroker = broker
    const rows = this.statement(
      'SELECT client_id, topic, qos, options FROM subscriptions WHERE qos > 0',
    ).all() as {
      client_id: string
      topic: string
      qos: number
      options: string
    }[]
    for (const row of rows)
      this.trie.add(row.topic, trieEntry(row.client_id, row.topic, JSON.parse(row.options)))
    this.retainedCount = (this.statement('SELECT COUNT(*) AS n FROM retained').get() as { n: number }).n
    const last = this.statement('SELECT MAX(broker_counter) FROM outgoing WHERE broker_id = ?')
      .pluck()
      .get(broker.id) as number | null
    if (last !== null && last > broker.counter) broker.counter = last
    this.transaction(() => {
      // Messages stored before their PUBACK whose publication the last run did not reach.
      const unnumbered = this.statement(
        'SELECT seq FROM outgoing WHERE broker_counter IS NULL AND cmd = ? ORDER BY seq',
      )
        .pluck()
        .all('publish') as number[]
      for (const seq of unnumbered) this.number(seq)
      this.statement('UPDATE wills SET broker_id = ? WHERE broker_id = ?').run(
        broker.id + PREVIOUS_RUN,
        broker.id,
      )
    })
  }

  /**
   * Ingress calls this for a QoS 1 PUBLISH before it lets aedes write the PUBACK (which aedes 1.x
   * writes before it publishes, so before its own store calls): the retained message and the copies
   * queued for persistent sessions are durable when this resolves. aedes' own calls that follow for the
   * same packet (recognised by its payload object, which aedes' Packet keeps) only give the queued
   * copies the counter aedes assigned, without waiting for the disk: that counter is not needed to
   * deliver the message after a crash (setup() numbers such rows again).
   *
   * Synchronous, as better-sqlite3 is: the transaction is committed when this returns (or it throws),
   * so a publish with nothing to store costs no promise.
   */
  storeBeforeAck(packet: AnyPacket): void {
    const payload = packet.payload
    if (typeof payload !== 'object' || payload === null) return
    const subs = this.trie.match(packet.topic as string)
    // Most messages are neither retained nor wanted by a persistent session: nothing to store.
    if (packet.retain !== true && subs.length === 0) return
    const early: Early = { retained: false, rows: new Map() }
    this.transaction(() => {
      if (packet.retain === true) {
        this.retain({ ...packet, cmd: 'publish' })
        early.retained = true
      }
      if (subs.length === 0) return
      const e = encodePacket(new Packet({ ...packet, brokerId: undefined, brokerCounter: undefined }))
      for (const sub of subs) {
        if (early.rows.has(sub.clientId) || !this.makeRoom(sub.clientId, e.bytes)) continue
        const { lastInsertRowid } = this.insertOutgoing.run(
          sub.clientId,
          this.storeBroker?.id ?? null,
          null,
          'publish',
          e.fields,
          e.payload,
          e.kind,
          e.bytes,
        )
        early.rows.set(sub.clientId, Number(lastInsertRowid))
      }
    })
    if (early.retained || early.rows.size > 0) this.early.set(payload, early)
  }

  /** Gives a queued message the next aedes counter (aedes dedupes deliveries by it). */
  private number(seq: number): void {
    const broker = this.storeBroker
    if (broker === undefined) return
    this.statement('UPDATE outgoing SET broker_id = ?, broker_counter = ? WHERE seq = ?').run(
      broker.id,
      ++broker.counter,
      seq,
    )
  }

  // Retained messages [MQTT-3.3.1-5] [MQTT-3.3.1-10]

  async storeRetained(packet: AnyPacket): Promise<void> {
    const early = typeof packet.payload === 'object' ? this.early.get(packet.payload as object) : undefined
    if (early?.retained === true) {
      early.retained = false // stored before the PUBACK
      return
    }
    this.transaction(() => this.retain(packet))
  }

  private retain(packet: AnyPacket): void {
    const topic = packet.topic as string
    const payload = packet.payload as Buffer | string
    if (payload.length === 0) {
      const { changes } = this.statement('DELETE FROM retained WHERE topic = ?').run(topic)
      this.retainedCount -= changes
      return
    }
    const exists = this.statement('SELECT 1 FROM retained WHERE topic = ?').get(topic) !== undefined
    if (!exists && this.retainedCount >= this.options.maxRetainedMessages) {
      this.counters.retainedRefused++
      this.dropLog.warn(
        { topic, limit: this.options.maxRetainedMessages, reason: 'retained-limit' },
        'retained message not kept: store.maxRetainedMessages reached (it was still delivered)',
      )
      return
    }
    const e = encodePacket({ ...packet })
    this.statement(
      `INSERT INTO retained (topic, fields, payload, kind, bytes) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (topic) DO UPDATE SET fields = excluded.fields, payload = excluded.payload,
           kind = excluded.kind, bytes = excluded.bytes`,
    ).run(topic, e.fields, e.payload, e.kind, e.bytes)
    if (!exists) this.retainedCount++
  }

  createRetainedStream(pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern])
  }

  /** Each retained message matching any of the patterns, once. */
  createRetainedStreamCombi(patterns: string[]): Readable {
    const matcher = new QlobberTrue(QLOBBER_OPTIONS)
    for (const p of patterns) matcher.add(p)
    const topics = (
      this.statement('SELECT topic FROM retained ORDER BY rowid').pluck().all() as string[]
    ).filter((t) => matcher.test(t))
    const read = this.statement('SELECT fields, payload, kind FROM retained WHERE topic = ?')
    return Readable.from(
      (function* () {
        for (const topic of topics) {
          const row = read.get(topic) as PacketRow | undefined
          if (row !== undefined) yield decodePacket(row.fields, row.payload, row.kind)
        }
      })(),
    )
  }

  // Subscriptions of persistent sessions [MQTT-3.1.2-4]

  async addSubscriptions(client: Client, subs: Sub[]): Promise<void> {
    const upsert = this.statement(
      `INSERT INTO subscriptions (client_id, topic, qos, options) VALUES (?, ?, ?, ?)
       ON CONFLICT (client_id, topic) DO UPDATE SET qos = excluded.qos, options = excluded.options`,
    )
    const previousQos = this.statement(
      'SELECT qos FROM subscriptions WHERE client_id = ? AND topic = ?',
    ).pluck()
    this.transaction(() => {
      for (const sub of subs) {
        const record: Record<string, unknown> = { qos: sub.qos, rh: sub.rh, rap: sub.rap, nl: sub.nl }
        if ((sub as { subscriptionIdentifier?: number }).subscriptionIdentifier !== undefined) {
          record.subscriptionIdentifier = (sub as { subscriptionIdentifier?: number }).subscriptionIdentifier
        }
        const before = previousQos.get(client.id, sub.topic) as number | undefined
        upsert.run(client.id, sub.topic, sub.qos, JSON.stringify(record))
        // Only QoS > 0 subscriptions get messages queued while offline, so only they are matched.
        if (sub.qos > 0) this.trie.add(sub.topic, trieEntry(client.id, sub.topic, record))
        else if (before !== undefined && before > 0)
          this.trie.remove(sub.topic, { clientId: client.id, topic: sub.topic })
      }
    })
  }

  async removeSubscriptions(client: Client, topics: string[]): Promise<void> {
    const remove = this.statement('DELETE FROM subscriptions WHERE client_id = ? AND topic = ? RETURNING qos')
    this.transaction(() => {
      for (const topic of topics) {
        const row = remove.get(client.id, topic) as { qos: number } | undefined
        if (row !== undefined && row.qos > 0) this.trie.remove(topic, { clientId: client.id, topic })
      }
    })
  }

  async subscriptionsByClient(client: Client): Promise<Record<string, unknown>[]> {
    // aedes asks for a resumed session's subscriptions while it connects a clean=false client, then
    // restores them (live deliveries start) and only then replays its queue: the replay opens now, so
    // live deliveries wait for it and do not overtake queued messages [MQTT-4.6.0-6] (queue-replay.ts).
    this.beginReplay(client.id)
    const rows = this.statement(
      'SELECT topic, options FROM subscriptions WHERE client_id = ? ORDER BY rowid',
    ).all(client.id) as { topic: string; options: string }[]
    return rows.map((r) => ({ topic: r.topic, ...(JSON.parse(r.options) as object) }))
  }

  async countOffline(): Promise<{ subsCount: number; clientsCount: number }> {
    const clients = this.statement('SELECT COUNT(DISTINCT client_id) FROM subscriptions')
      .pluck()
      .get() as number
    return { subsCount: this.trie.subscriptionsCount, clientsCount: clients }
  }

  async subscriptionsByTopic(topic: string): Promise<Sub[]> {
    return this.trie.match(topic) as Sub[]
  }

  async cleanSubscriptions(client: Client): Promise<void> {
    const remove = this.statement('DELETE FROM subscriptions WHERE client_id = ? RETURNING topic, qos')
    this.transaction(() => {
      for (const row of remove.all(client.id) as { topic: string; qos: number }[]) {
        if (row.qos > 0) this.trie.remove(row.topic, { clientId: client.id, topic: row.topic })
      }
    })
  }

  getClientList(topic: string): Readable {
    const ids = this.statement('SELECT client_id FROM subscriptions WHERE topic = ? ORDER BY rowid')
      .pluck()
      .all(topic) as string[]
    return Readable.from(ids)
  }

  // Messages owed to persistent sessions [MQTT-3.1.2-5]

  async outgoingEnqueue(sub: { clientId: string }, packet: AnyPacket): Promise<void> {
    return this.outgoingEnqueueCombi([sub], packet)
  }

  async outgoingEnqueueCombi(subs: { clientId: string }[], packet: AnyPacket): Promise<void> {
    if (subs.length === 0) return
    const queued = new Packet(packet)
    const early = typeof packet.payload === 'object' ? this.early.get(packet.payload as object) : undefined
    if (early !== undefined) this.early.delete(packet.payload as object)
    const late = subs.filter((sub) => early?.rows.get(sub.clientId) === undefined)
    const work = () => {
      for (const sub of subs) {
        const seq = early?.rows.get(sub.clientId)
        if (seq !== undefined) {
          this.statement(
            'UPDATE outgoing SET broker_counter = ? WHERE seq = ? AND broker_counter IS NULL',
          ).run(queued.brokerCounter ?? null, seq)
        }
      }
      if (late.length === 0) return
      const e = encodePacket(queued)
      const present = this.statement(
        'SELECT 1 FROM outgoing WHERE client_id = ? AND broker_id IS ? AND broker_counter IS ?',
      )
      for (const sub of late) {
        // The same message for the same client (overlapping subscriptions) is queued once.
        if (
          queued.brokerId != null &&
          present.get(sub.clientId, queued.brokerId, queued.brokerCounter ?? null)
        ) {
          continue
        }
        if (!this.makeRoom(sub.clientId, e.bytes)) continue
        this.insertOutgoing.run(
          sub.clientId,
          queued.brokerId ?? null,
          queued.brokerCounter ?? null,
          queued.cmd,
          e.fields,
          e.payload,
          e.kind,
          e.bytes,
        )
      }
    }
    // Only new rows need the disk before aedes goes on; numbering the early ones does not.
    if (late.length > 0) this.transaction(work)
    else this.transaction(work, { durable: false })
  }

  /**
   * Drops a client's oldest queued messages until one of `bytes` fits; false when it can never fit.
   * PUBRELs are not counted and never dropped: they finish a QoS 2 exchange the device has started.
   */
  private makeRoom(clientId: string, bytes: number): boolean {
    const { maxQueuedMessages, maxQueuedBytes } = this.options
    if (bytes > maxQueuedBytes) {
      this.drop(clientId, 1, bytes, 'message larger than store.maxQueuedBytes')
      return false
    }
    const size = this.statement(
      "SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM outgoing WHERE client_id = ? AND cmd = 'publish'",
    ).get(clientId) as { n: number; b: number }
    let { n, b } = size
    if (n + 1 <= maxQueuedMessages && b + bytes <= maxQueuedBytes) return true
    const oldest = this.statement(
      "SELECT seq, bytes FROM outgoing WHERE client_id = ? AND cmd = 'publish' ORDER BY seq",
    ).iterate(clientId) as IterableIterator<{ seq: number; bytes: number }>
    const victims: number[] = []
    let droppedBytes = 0
    for (const row of oldest) {
      if (n + 1 <= maxQueuedMessages && b + bytes <= maxQueuedBytes) break
      victims.push(row.seq)
      droppedBytes += row.bytes
      n--
      b -= row.bytes
    }
    const remove = this.statement('DELETE FROM outgoing WHERE seq = ?')
    for (const seq of victims) remove.run(seq)
    const reason =
      size.n + 1 > maxQueuedMessages
        ? 'queue over store.maxQueuedMessages'
        : 'queue over store.maxQueuedBytes'
    this.drop(clientId, victims.length, droppedBytes, `${reason}: oldest dropped`)
    return true
  }

  private drop(clientId: string, messages: number, bytes: number, reason: string): void {
    this.counters.queueDropped += messages
    this.counters.queueDroppedBytes += bytes
    this.dropLog.warn(
      { clientId, dropped: messages, bytes, reason },
      'queued message dropped for an offline session',
    )
  }

  async outgoingUpdate(client: Client, packet: AnyPacket): Promise<void> {
    const seq = await this.update(client, packet)
    this.replays.get(client.id)?.handled(seq)
  }

  /** outgoingUpdate; resolves with the row it changed. */
  private async update(client: Client, packet: AnyPacket): Promise<number | undefined> {
    return this.transaction((): number | undefined => {
      const row = this.statement(
        `SELECT seq, broker_id AS brokerId, broker_counter AS brokerCounter FROM outgoing
           WHERE client_id = ? AND ((broker_id = ? AND broker_counter = ?) OR (broker_id IS NOT ? AND message_id = ?))
           ORDER BY seq LIMIT 1`,
      ).get(
        client.id,
        packet.brokerId ?? null,
        packet.brokerCounter ?? null,
        packet.brokerId ?? null,
        packet.messageId ?? null,
      ) as { seq: number; brokerId: string | null; brokerCounter: number | null } | undefined
      if (row === undefined) {
        // A live delivery of a message no longer queued (dropped over the queue's limit): it is
        // still sent, and failing would make aedes close the client.
        if (packet.cmd === 'publish' && packet.brokerCounter !== undefined) return undefined
        throw new Error('no such packet')
      }
      if (
        packet.brokerId !== undefined &&
        row.brokerId === packet.brokerId &&
        row.brokerCounter === packet.brokerCounter
      ) {
        // The message is being sent: remember the packet identifier it went out with.
        this.statement('UPDATE outgoing SET message_id = ? WHERE seq = ?').run(
          packet.messageId ?? null,
          row.seq,
        )
        return row.seq
      }
      // A PUBREL (or another broker's packet) takes the place of the message it follows [MQTT-4.3.3-1].
      const e = encodePacket(packet)
      this.statement(
        'UPDATE outgoing SET broker_id = ?, broker_counter = ?, message_id = ?, cmd = ?, fields = ?, payload = ?, kind = ?, bytes = ? WHERE seq = ?',
      ).run(
        packet.brokerId ?? null,
        packet.brokerCounter ?? null,
        packet.messageId ?? null,
        packet.cmd ?? 'publish',
        e.fields,
        e.payload,
        e.kind,
        e.bytes,
        row.seq,
      )
      return row.seq
    })
  }

  async outgoingClearMessageId(client: Client, packet: AnyPacket): Promise<AnyPacket | undefined> {
    return this.transaction(() => {
      const row = this.statement(
        'DELETE FROM outgoing WHERE seq = (SELECT seq FROM outgoing WHERE client_id = ? AND message_id = ? ORDER BY seq LIMIT 1) RETURNING seq, cmd, broker_id, broker_counter, message_id, fields, payload, kind',
      ).get(client.id, packet?.messageId ?? null) as QueuedRow | undefined
      if (row === undefined) return undefined
      this.replays.get(client.id)?.handled(row.seq)
      return queuedPacket(row)
    })
  }

  private beginReplay(clientId: string): void {
    this.replays.get(clientId)?.finish()
    this.replays.set(
      clientId,
      new QueueReplay((ended) => {
        if (this.replays.get(clientId) === ended) this.replays.delete(clientId)
      }),
    )
  }

  replayOf(clientId: string): ReplayView | undefined {
    return this.replays.get(clientId)
  }

  /** The client's queue as it is now, read in pages (aedes clears messages while it reads). */
  outgoingStream(client: Client): Readable {
    const last = this.statement('SELECT MAX(seq) FROM outgoing WHERE client_id = ?')
      .pluck()
      .get(client.id) as number | null
    const page = this.statement(
      'SELECT seq, cmd, broker_id, broker_counter, message_id, fields, payload, kind FROM outgoing WHERE client_id = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
    )
    const number = (row: QueuedRow) => {
      if (row.broker_counter !== null || row.cmd !== 'publish') return
      this.transaction(() => this.number(row.seq), { durable: false })
      const numbered = this.statement('SELECT broker_id, broker_counter FROM outgoing WHERE seq = ?').get(
        row.seq,
      ) as { broker_id: string | null; broker_counter: number | null } | undefined
      row.broker_id = numbered?.broker_id ?? row.broker_id
      row.broker_counter = numbered?.broker_counter ?? null
    }
    const replay = this.replays.get(client.id)
    replay?.started()
    let lastYielded: number | undefined
    return Readable.from(
      (function* () {
        try {
          if (last === null) return
          let after = 0
          for (;;) {
            const rows = page.all(client.id, after, last, PAGE_ROWS) as QueuedRow[]
            for (const row of rows) {
              number(row)
              if (row.cmd === 'publish') replay?.reading(row.broker_id, row.broker_counter)
              lastYielded = row.seq
              yield queuedPacket(row)
            }
            if (rows.length < PAGE_ROWS) return
            after = (rows[rows.length - 1] as { seq: number }).seq
          }
        } finally {
          // The stream reads ahead of aedes' sending: the replay is over once aedes handled the last
          // row it read (outgoingUpdate or outgoingClearMessageId), not when the rows run out.
          replay?.readAll(lastYielded)
        }
      })(),
      { highWaterMark: 1 },
    )
  }

  // Inbound QoS 2 [MQTT-4.3.3-2]

  async incomingStorePacket(client: Client, packet: AnyPacket): Promise<void> {
    const stored = new Packet(packet)
    stored.messageId = packet.messageId
    this.putPacketRow('incoming', 'message_id', client.id, packet.messageId, stored)
  }

  async incomingGetPacket(client: Client, packet: AnyPacket): Promise<AnyPacket> {
    const row = this.statement(
      'SELECT fields, payload, kind FROM incoming WHERE client_id = ? AND message_id = ?',
    ).get(client.id, packet.messageId ?? null) as PacketRow | undefined
    if (row === undefined) throw new Error('no such packet')
    return decodePacket(row.fields, row.payload, row.kind)
  }

  async incomingDelPacket(client: Client, packet: AnyPacket): Promise<void> {
    this.transaction(() => {
      const { changes } = this.statement('DELETE FROM incoming WHERE client_id = ? AND message_id = ?').run(
        client.id,
        packet.messageId ?? null,
      )
      if (changes === 0) throw new Error('no such packet')
    })
  }

  /** [MQTT-3.1.2-6] a clean session starts without the QoS 2 state of the last one. */
  async cleanIncoming(client: Client): Promise<void> {
    this.transaction(() => this.statement('DELETE FROM incoming WHERE client_id = ?').run(client.id))
  }

  // Wills [MQTT-3.1.2-8]

  async putWill(client: Client, packet: AnyPacket): Promise<void> {
    packet.brokerId = this.storeBroker?.id
    packet.clientId = client.id
    this.putPacketRow('wills', 'broker_id', client.id, packet.brokerId ?? null, packet)
  }

  /** Store `packet` in `table` under (client_id, `keyColumn`), replacing what was there, durably. */
  private putPacketRow(
    table: 'incoming' | 'wills',
    keyColumn: 'message_id' | 'broker_id',
    clientId: string,
    key: unknown,
    packet: AnyPacket,
  ): void {
    const e = encodePacket(packet)
    this.transaction(() => {
      this.statement(
        `INSERT OR REPLACE INTO ${table} (client_id, ${keyColumn}, fields, payload, kind) VALUES (?, ?, ?, ?, ?)`,
      ).run(clientId, key, e.fields, e.payload, e.kind)
    })
  }

  async getWill(client: Client): Promise<AnyPacket | undefined> {
    const row = this.statement('SELECT broker_id, fields, payload, kind FROM wills WHERE client_id = ?').get(
      client.id,
    ) as (PacketRow & { broker_id: string | null }) | undefined
    return row === undefined ? undefined : willPacket(row)
  }

  async delWill(client: Client): Promise<AnyPacket | undefined> {
    return this.transaction(() => {
      const row = this.statement(
        'DELETE FROM wills WHERE client_id = ? RETURNING broker_id, fields, payload, kind',
      ).get(client.id) as (PacketRow & { broker_id: string | null }) | undefined
      return row === undefined ? undefined : willPacket(row)
    })
  }

  /** The wills of clients whose broker is not among the live `brokers`. */
  streamWill(brokers: Record<string, unknown> = {}): Readable {
    const rows = this.statement(
      'SELECT broker_id, fields, payload, kind FROM wills ORDER BY rowid',
    ).all() as (PacketRow & {
      broker_id: string | null
    })[]
    return Readable.from(
      rows.filter((r) => r.broker_id === null || brokers[r.broker_id] === undefined).map(willPacket),
    )
  }

  /** Closes the database. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    this.db.close()
  }

  /** Queue depth of one client, for tests and the status page. */
  queued(clientId: string): { messages: number; bytes: number } {
    const row = this.statement(
      "SELECT COUNT(*) AS n, COALESCE(SUM(bytes), 0) AS b FROM outgoing WHERE client_id = ? AND cmd = 'publish'",
    ).get(clientId) as { n: number; b: number }
    return { messages: row.n, bytes: row.b }
  }

  /**
   * Runs `work` in one transaction. Durable (the default): committed with synchronous = FULL, so the
   * WAL is fsynced before this returns. Not durable: committed without the fsync; the next durable
   * commit carries it to the disk (WAL frames are synced in order).
   */
  private transaction<T>(work: () => T, { durable = true } = {}): T {
    if (durable) return this.db.transaction(work).immediate()
    this.statement('PRAGMA synchronous = NORMAL').run()
    try {
      return this.db.transaction(work).immediate()
    } finally {
      this.statement('PRAGMA synchronous = FULL').run()
    }
  }
}

function trieEntry(
  clientId: string,
  topic: string,
  record: Record<string, unknown>,
): { clientId: string; topic: string } & Record<string, unknown> {
  return { clientId, topic, qos: record.qos, rh: record.rh, rap: record.rap, nl: record.nl }
}

/** A queued packet as aedes expects it back: an aedes Packet with the identifier it was sent with. */
function queuedPacket(row: QueuedRow): AnyPacket {
  const decoded = decodePacket(row.fields, row.payload, row.kind)
  if (decoded.cmd !== 'publish') return decoded
  decoded.brokerId = row.broker_id ?? undefined
  decoded.brokerCounter = row.broker_counter ?? undefined
  const packet = new Packet(decoded)
  packet.messageId = row.message_id ?? undefined
  return packet
}

function willPacket(row: PacketRow & { broker_id: string | null }): AnyPacket {
  const packet = decodePacket(row.fields, row.payload, row.kind)
  packet.brokerId = row.broker_id ?? undefined
  return packet
}
