/**
 * The Kafka backend's confirmation guard (DESIGN.md invariant 2: remove only after the core confirms).
 *
 * A produce batch counts as sent only when the produce response names, without an error, every
 * partition the batch was produced to. The client library's word that the send resolved is not
 * enough: kafkajs 2.2.4 resolved sends whose retry had skipped a partition after its leader moved
 * (kafkajs issue #1303; edgebridge also carries a fix of that send path, patches/kafkajs+2.2.4.patch).
 * To know which partitions to expect, the backend fixes each record's partition itself, with the
 * same partitioner the producer would use (the Java client's murmur2 of the key, so a key lands where
 * any Java producer would put it; round robin over partitions with a leader for a record without a
 * key). Whatever is unconfirmed fails the send retriably: the forwarder sends the whole batch again,
 * a duplicate at worst, never a loss.
 */
import { createRequire } from 'node:module'
import { Partitioners, type Message, type PartitionMetadata, type RecordMetadata } from 'kafkajs'
import { BackendError } from '../../errors.js'

export interface TopicMessages {
  topic: string
  messages: Message[]
}

/** Sets `partition` on every message, as the producer's default (Java-compatible) partitioner would. */
export class PartitionAssigner {
  private readonly partitioner = Partitioners.DefaultPartitioner()

  assign(batch: readonly TopicMessages[], partitionsOf: (topic: string) => PartitionMetadata[]): void {
    for (const { topic, messages } of batch) {
      const partitionMetadata = partitionsOf(topic)
      for (const message of messages) {
        message.partition = this.partitioner({ topic, partitionMetadata, message })
      }
    }
  }
}

/**
 * The partitions of `batch` (messages with their partition set) that `response` does not confirm, as
 * "topic/partition", in batch order.
 */
export function unconfirmedPartitions(
  batch: readonly TopicMessages[],
  response: readonly RecordMetadata[],
): string[] {
  const confirmed = new Set(
    response.filter((r) => r.errorCode === 0).map((r) => `${r.topicName}/${r.partition}`),
  )
  const expected = new Set<string>()
  for (const { topic, messages } of batch) {
    for (const m of messages) expected.add(`${topic}/${m.partition ?? '?'}`)
  }
  return [...expected].filter((p) => !confirmed.has(p))
}

/** The retriable error for a batch the produce response did not wholly confirm. */
export function unconfirmedError(unconfirmed: readonly string[], records: number): BackendError {
  return new BackendError(
    'BACKEND_UNCONFIRMED',
    `Kafka's produce response did not confirm ${unconfirmed.join(', ')} of a batch of ${records} records; ` +
      'the batch is sent again',
    { retriable: true },
  )
}

/**
 * True when the installed kafkajs has the fixed send path (patches/kafkajs+2.2.4.patch marks it).
 * Without it (installed with scripts disabled, or as a dependency of another package) the guard still
 * keeps every record, but sends more batches twice after a leader change.
 */
export function kafkajsSendPathFixed(): boolean {
  try {
    const sendMessages = createRequire(import.meta.url)('kafkajs/src/producer/sendMessages.js') as {
      confirmsEveryPartition?: boolean
    }
    return sendMessages.confirmsEveryPartition === true
  } catch {
    return false
  }
}
