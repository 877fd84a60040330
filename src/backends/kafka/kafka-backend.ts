/**
 * The `kafka` backend: each forwarder batch is one kafkajs `sendBatch` with an idempotent producer and
 * acks=-1, so resolving means every in-sync replica has every record of the batch (DESIGN.md,
 * invariant 2). kafkajs has no linger: the forwarder's batch is the produce batch.
 *
 * Order: records keep their spool order within each topic, and a key per device (the router's default)
 * puts one device on one partition, where Kafka keeps order. With maxInFlightRequests=1 and the
 * idempotent producer, a batch sent again after a failure reuses its sequence numbers (kafkajs rolls
 * them back on failure), so the broker drops what it already had.
 *
 * Topics: before the first send to a topic the backend checks that it exists (listing topics through
 * the admin client, which never adds an unknown topic to the producer's metadata: in kafkajs one
 * unknown topic there makes every later metadata refresh fail). A missing topic is created when
 * kafka.createTopics is true, else the send fails retriably with a message that says so.
 *
 * The cluster being down never rejects connect(): the producer connects in the background and again
 * on each send, and send fails retriably within seconds (kafkajs' own retries are kept short).
 *
 * Confirmation (confirmation.ts): each record's partition is fixed here, and a send resolves only when
 * the produce response confirms every partition of the batch; anything less fails retriably and the
 * forwarder sends the batch again. A leader change must never turn into a lost record, whatever the
 * client library reports (kafkajs issue #1303).
 */
import { abortedError, withAbort } from '../abort.js'
import {
  Kafka,
  Partitioners,
  type Admin,
  type CompressionTypes,
  type PartitionMetadata,
  type Producer,
} from 'kafkajs'
import type { Backend, BackendFactory, DownlinkHandler, Subscription } from '../backend.js'
import type { KafkaConfig } from '../../config/types.js'
import { BackendError, EdgebridgeError, errorMessage } from '../../errors.js'
import { componentLogger, type Logger } from '../../observability/logger.js'
import type { SpooledRecord } from '../../record.js'
import { CLIENT_RETRY, kafkaClientOptions } from './client-options.js'
import { toKafkaMessage } from './codecs.js'
import { registerCompression } from './compression.js'
import {
  PartitionAssigner,
  kafkajsSendPathFixed,
  unconfirmedError,
  unconfirmedPartitions,
  type TopicMessages,
} from './confirmation.js'
import { subscribeKafkaTopics } from './kafka-subscriber.js'
import { durabilityNotice, readTopicDurability } from './topic-durability.js'
import {
  isMessageTooLarge,
  isUnknownTopic,
  mapKafkaError,
  missingTopicError,
  needsNewProducer,
} from './errors.js'

/** Bytes kept for everything in a record but the payload, topic and client id (1 KiB). */
const KAFKA_RECORD_ROOM = 1024
/**
 * How long a topic's partition list is used before it is fetched again (5 minutes, kafkajs' own
 * metadataMaxAge), so partitions added to a topic are used; it is also dropped after any failed send.
 */
const PARTITION_METADATA_MAX_AGE_MS = 5 * 60 * 1000

export class KafkaBackend implements Backend {
  readonly name = 'kafka' as const
  private readonly config: KafkaConfig
  private readonly log: Logger
  private kafka: Kafka | undefined
  private producer: Producer | undefined
  private admin: Admin | undefined
  private producerReady: Promise<void> | undefined
  private producerConnected = false
  private adminReady: Promise<void> | undefined
  private compression: CompressionTypes | undefined
  /** Topics seen to exist (or created): checked once each. */
  private readonly knownTopics = new Set<string>()
  /** Per topic, its partitions as last fetched, for fixing each record's partition. */
  private readonly partitionMetadata = new Map<
    string,
    { partitions: PartitionMetadata[]; fetchedAt: number }
  >()
  private readonly assigner = new PartitionAssigner()
  private connected = false
  private closed = false

  constructor(config: KafkaConfig, logger: Logger) {
    this.config = config
    this.log = componentLogger(logger, 'backend.kafka')
  }

  async connect(): Promise<void> {
    if (this.closed) throw new BackendError('BACKEND_CLOSED', 'Kafka backend is closed')
    if (this.kafka !== undefined) return
    // Configuration errors (unreadable TLS files, no brokers) reject here, before any network.
    const options = await kafkaClientOptions(this.config, this.log)
    this.compression = await registerCompression(this.config.compression)
    this.kafka = new Kafka(options)
    this.producer = this.newProducer()
    this.admin = this.kafka.admin({ retry: CLIENT_RETRY })
    if (!kafkajsSendPathFixed()) {
      this.log.warn(
        'kafkajs is installed without the send-path fix edgebridge carries (patches/, applied by npm install); ' +
          'records stay safe, but after a partition leader change more batches are sent twice',
      )
    }
    this.ensureProducer().then(
      () => this.log.info({ brokers: this.config.brokers }, 'connected to Kafka'),
      (err: unknown) =>
        this.log.warn(
          { brokers: this.config.brokers, err: errorMessage(err) },
          'Kafka not reachable yet; records stay spooled and sending retries',
        ),
    )
  }

  /**
   * A record is one batch entry with the key and provenance headers around the payload; the room
   * kept here covers the batch header, the key (the client id) and the fixed header names and values.
   * The size checked is uncompressed: compression can only make the real record smaller.
   */
  maxPayloadBytes(): number {
    return this.config.maxMessageBytes - KAFKA_RECORD_ROOM
  }

  isConnected(): boolean {
    return this.connected && !this.closed
  }

  async send(batch: readonly SpooledRecord[], signal?: AbortSignal): Promise<void> {
    if (this.closed) throw new BackendError('BACKEND_CLOSED', 'Kafka backend is closed')
    if (signal?.aborted === true) throw abortedError()
    if (batch.length === 0) return
    if (this.kafka === undefined) await this.connect()
    const topics = [...new Set(batch.map((r) => r.target))]
    try {
      await withAbort(this.deliver(batch, topics), signal)
      this.connected = true
    } catch (err) {
      if (err instanceof EdgebridgeError && err.code === 'ABORTED') throw err
      if (this.closed)
        throw new BackendError('BACKEND_CLOSED', 'Kafka backend closed during send', { cause: err })
      const mapped = mapKafkaError(err, {
        topics,
        brokers: this.config.brokers,
        createTopics: this.config.createTopics,
      })
      if (mapped instanceof BackendError && mapped.code === 'BACKEND_UNAVAILABLE' && !isUnknownTopic(err)) {
        this.connected = false
      }
      if (isUnknownTopic(err)) for (const t of topics) this.knownTopics.delete(t)
      for (const t of topics) this.partitionMetadata.delete(t)
      // A topic deleted under a running producer stays in its metadata and fails every refresh, and
      // lost sequence state fails every send: both need a fresh producer.
      if (needsNewProducer(err) || isUnknownTopic(err)) await this.resetProducer()
      throw mapped
    }
  }

  /** The downlink (kafka-subscriber.ts): its own client and consumer, in the consumer group `groupId`. */
  subscribe(topics: readonly string[], onMessage: DownlinkHandler, groupId: string): Promise<Subscription> {
    return subscribeKafkaTopics(this.config, topics, onMessage, groupId, this.log)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.connected = false
    const producer = this.producer
    const admin = this.admin
    this.producer = undefined
    this.admin = undefined
    // kafkajs' disconnect does not stop a connect in flight: that connect would open sockets after
    // disconnect returned and keep the process alive. Let it settle first (kafkajs' retries are short).
    await Promise.all([this.producerReady?.catch(() => undefined), this.adminReady?.catch(() => undefined)])
    await Promise.all([
      producer
        ?.disconnect()
        .catch((err: unknown) => this.log.debug({ err: errorMessage(err) }, 'producer disconnect')),
      admin
        ?.disconnect()
        .catch((err: unknown) => this.log.debug({ err: errorMessage(err) }, 'admin disconnect')),
    ])
  }

  private newProducer(): Producer {
    if (this.kafka === undefined) throw new TypeError('Kafka client not created')
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // Murmur2 like the Java client: a key lands on the same partition whoever produces it.
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: CLIENT_RETRY,
    })
  }

  private async resetProducer(): Promise<void> {
    const old = this.producer
    const oldReady = this.producerReady
    if (old === undefined || this.closed) return
    this.producer = this.newProducer()
    this.producerConnected = false
    this.producerReady = undefined
    await oldReady?.catch(() => undefined)
    await old.disconnect().catch(() => undefined)
  }

  private async ensureProducer(): Promise<void> {
    const producer = this.producer
    if (producer === undefined) throw new BackendError('BACKEND_CLOSED', 'Kafka backend is closed')
    if (this.producerConnected) return
    if (this.producerReady === undefined) {
      const ready = producer.connect().then(
        () => {
          if (this.producer === producer) {
            this.producerConnected = true
            this.connected = true
          }
        },
        (err: unknown) => {
          if (this.producer === producer) {
            this.producerReady = undefined
            this.connected = false
          }
          throw err
        },
      )
      this.producerReady = ready
    }
    await this.producerReady
  }

  private async ensureAdmin(): Promise<Admin> {
    const admin = this.admin
    if (admin === undefined) throw new BackendError('BACKEND_CLOSED', 'Kafka backend is closed')
    this.adminReady ??= admin.connect().catch((err: unknown) => {
      this.adminReady = undefined
      throw err
    })
    await this.adminReady
    return admin
  }

  /** Every topic of the batch exists, created here when kafka.createTopics allows. */
  private async ensureTopics(topics: readonly string[]): Promise<void> {
    const unknown = topics.filter((t) => !this.knownTopics.has(t))
    if (unknown.length === 0) return
    const admin = await this.ensureAdmin()
    const existing = new Set(await admin.listTopics())
    const missing = unknown.filter((t) => !existing.has(t))
    if (missing.length > 0) {
      if (!this.config.createTopics) throw missingTopicError(missing, false)
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: this.config.partitions,
          replicationFactor: this.config.replicationFactor,
        })),
      })
      this.log.info(
        {
          topics: missing,
          partitions: this.config.partitions,
          replicationFactor: this.config.replicationFactor,
        },
        'created Kafka topics',
      )
    }
    for (const t of unknown) this.knownTopics.add(t)
    await this.reportDurability(admin, unknown)
  }

  /** Says once per topic what its replication makes of acks=-1 (topic-durability.ts); never fails a send. */
  private async reportDurability(admin: Admin, topics: readonly string[]): Promise<void> {
    try {
      for (const d of await readTopicDurability(admin, topics)) {
        const notice = durabilityNotice(d)
        if (notice !== undefined) this.log[notice.level]({ ...d }, notice.message)
      }
    } catch (err) {
      this.log.debug({ err: errorMessage(err), topics }, "could not read the topics' replication settings")
    }
  }

  /** The partitions of each topic, fetched when unknown or older than PARTITION_METADATA_MAX_AGE_MS. */
  private async ensurePartitionMetadata(topics: readonly string[]): Promise<void> {
    const now = Date.now()
    const stale = topics.filter((t) => {
      const known = this.partitionMetadata.get(t)
      return known === undefined || now - known.fetchedAt > PARTITION_METADATA_MAX_AGE_MS
    })
    if (stale.length === 0) return
    const admin = await this.ensureAdmin()
    const { topics: fetched } = await admin.fetchTopicMetadata({ topics: stale })
    for (const t of fetched) {
      if (t.partitions.length > 0)
        this.partitionMetadata.set(t.name, { partitions: t.partitions, fetchedAt: now })
    }
  }

  private partitionsOf(topic: string): PartitionMetadata[] {
    const known = this.partitionMetadata.get(topic)
    if (known === undefined) {
      throw new BackendError('BACKEND_UNAVAILABLE', `Kafka returned no partitions for topic ${topic}`, {
        retriable: true,
      })
    }
    return known.partitions
  }

  private async deliver(batch: readonly SpooledRecord[], topics: readonly string[]): Promise<void> {
    await this.ensureProducer()
    await this.ensureTopics(topics)
    await this.ensurePartitionMetadata(topics)
    await this.produce(batch)
  }

  /**
   * One produce request for the batch, confirmed partition by partition (confirmation.ts). When Kafka
   * finds it too large (the batch limit is in spool bytes, Kafka counts headers and framing too), halves
   * are sent one after the other, which keeps order; only a single record too large is the batch's
   * final answer.
   */
  private async produce(batch: readonly SpooledRecord[]): Promise<void> {
    const producer = this.producer
    if (producer === undefined) throw new BackendError('BACKEND_CLOSED', 'Kafka backend is closed')
    const topicMessages = groupByTopic(batch)
    this.assigner.assign(topicMessages, (topic) => this.partitionsOf(topic))
    try {
      const response = await producer.sendBatch({ acks: -1, compression: this.compression, topicMessages })
      const unconfirmed = unconfirmedPartitions(topicMessages, response)
      if (unconfirmed.length > 0) throw unconfirmedError(unconfirmed, batch.length)
    } catch (err) {
      if (!isMessageTooLarge(err) || batch.length === 1) throw err
      const half = Math.ceil(batch.length / 2)
      this.log.debug({ records: batch.length }, 'Kafka batch too large; sending it in halves')
      await this.produce(batch.slice(0, half))
      await this.produce(batch.slice(half))
    }
  }
}

/** Runs of consecutive records with the same topic, in order (kafkajs merges runs per topic in order). */
export function groupByTopic(batch: readonly SpooledRecord[]): TopicMessages[] {
  const out: TopicMessages[] = []
  let current: TopicMessages | undefined
  for (const record of batch) {
    if (current === undefined || current.topic !== record.target) {
      current = { topic: record.target, messages: [] }
      out.push(current)
    }
    const { key, value, headers } = toKafkaMessage(record)
    // The Kafka timestamp is when the gateway received the message, also for a replayed backlog.
    current.messages.push({ key, value, headers, timestamp: String(record.receivedAt) })
  }
  return out
}

export const createKafkaBackend: BackendFactory = (config, deps) =>
  new KafkaBackend(config.kafka, deps.logger)
