/**
 * The Kafka backend's confirmation guard (src/backends/kafka/confirmation.ts): records get the
 * partition the Java client would give them, and a produce response that leaves out a partition of the
 * batch (or reports an error for it) is not a confirmation.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { PartitionMetadata, RecordMetadata } from 'kafkajs'
import {
  PartitionAssigner,
  kafkajsSendPathFixed,
  unconfirmedError,
  unconfirmedPartitions,
  type TopicMessages,
} from '../../src/backends/kafka/confirmation.js'

const partitions = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: 1,
    replicas: [1],
    isr: [1],
  }))

const ok = (topicName: string, partition: number): RecordMetadata => ({ topicName, partition, errorCode: 0 })

test('kafka confirmation: a key always gets the partition of the Java murmur2 partitioner', () => {
  const batch: TopicMessages[] = [
    {
      topic: 'readings',
      messages: ['device-0', 'device-4', 'device-5', 'device-9', 'device-4'].map((key) => ({
        key,
        value: 'x',
      })),
    },
  ]
  new PartitionAssigner().assign(batch, () => partitions(3))
  // As Kafka's Java client computes them: Utils.toPositive(Utils.murmur2(key)) % 3.
  assert.deepEqual(
    batch[0]!.messages.map((m) => m.partition),
    [1, 0, 2, 1, 0],
  )
})

test('kafka confirmation: records without a key are spread over the partitions that have a leader', () => {
  const meta = partitions(3)
  meta[1]!.leader = -1
  const batch: TopicMessages[] = [
    { topic: 't', messages: Array.from({ length: 6 }, () => ({ key: null, value: 'x' })) },
  ]
  new PartitionAssigner().assign(batch, () => meta)
  const used = new Set(batch[0]!.messages.map((m) => m.partition))
  assert.deepEqual([...used].sort(), [0, 2])
})

test('kafka confirmation: every partition of the batch must be in the response without an error', () => {
  const batch: TopicMessages[] = [
    {
      topic: 'a',
      messages: [
        { value: '1', partition: 0 },
        { value: '2', partition: 1 },
      ],
    },
    { topic: 'b', messages: [{ value: '3', partition: 0 }] },
  ]
  assert.deepEqual(unconfirmedPartitions(batch, [ok('a', 0), ok('a', 1), ok('b', 0)]), [])
  // The kafkajs 2.2.4 failure: a moved partition silently missing from a resolved send.
  assert.deepEqual(unconfirmedPartitions(batch, [ok('a', 1), ok('b', 0)]), ['a/0'])
  assert.deepEqual(
    unconfirmedPartitions(batch, [ok('a', 0), { topicName: 'a', partition: 1, errorCode: 6 }, ok('b', 0)]),
    ['a/1'],
  )
  const err = unconfirmedError(['a/0'], 3)
  assert.equal(err.code, 'BACKEND_UNCONFIRMED')
  assert.equal(err.retriable, true)
  assert.match(err.message, /a\/0/)
})

test('kafka confirmation: the installed kafkajs has the send-path fix (patches/ applied by npm install)', () => {
  assert.equal(kafkajsSendPathFixed(), true)
})
