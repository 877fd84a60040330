/**
 * Regression test for the patch edgebridge carries on kafkajs' send path (patches/kafkajs+2.2.4.patch,
 * kafkajs issue #1303): a send retried after a partition leader moved must produce the moved
 * partition to its new leader, even when that broker already answered for its own partitions.
 *
 * kafkajs 2.2.4 kept responses per broker, so the retry skipped the broker that had answered and the
 * send resolved without ever writing the moved partition. This drives kafkajs' own sendMessages with
 * an in-memory cluster of two brokers (the real Kafka scenario is test/crash/kafka-leader-bounce.test.ts):
 * it fails on the unpatched file and passes on the patched one.
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

const require = createRequire(import.meta.url)

interface ProducedPartition {
  partition: number
  messages: unknown[]
}
interface ProduceRequest {
  topicData: Array<{ topic: string; partitions: ProducedPartition[] }>
}
interface RecordMetadata {
  topicName: string
  partition: number
  errorCode: number
}
type SendMessages = (
  deps: Record<string, unknown>,
) => (args: {
  acks: number
  topicMessages: Array<{ topic: string; messages: Array<{ value: string; partition: number }> }>
}) => Promise<RecordMetadata[]>

const sendMessages = require('kafkajs/src/producer/sendMessages.js') as SendMessages
const createRetry = require('kafkajs/src/retry/index.js') as (o: object) => unknown
const { KafkaJSConnectionError } = require('kafkajs/src/errors.js') as {
  KafkaJSConnectionError: new (message: string) => Error
}
const { DefaultPartitioner } = (require('kafkajs') as { Partitioners: { DefaultPartitioner: () => unknown } })
  .Partitioners

const TOPIC = 'readings'

/** Two brokers; partition 0 starts on broker 2 and moves to broker 1 when broker 2 fails. */
function twoBrokerCluster() {
  const leaders = new Map<number, number>([
    [0, 2],
    [1, 1],
  ])
  const written: Array<{ broker: number; partition: number; count: number }> = []
  const broker = (nodeId: number) => ({
    nodeId,
    async produce({ topicData }: ProduceRequest) {
      if (nodeId === 2) {
        // Broker 2 dies: the controller makes broker 1 the leader of partition 0.
        leaders.set(0, 1)
        throw new KafkaJSConnectionError('Connection error: broker 2 is gone')
      }
      for (const t of topicData)
        for (const p of t.partitions)
          written.push({ broker: nodeId, partition: p.partition, count: p.messages.length })
      return {
        topics: topicData.map((t) => ({
          topicName: t.topic,
          partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })),
        })),
      }
    },
  })
  const brokers = new Map([1, 2].map((id) => [id, broker(id)]))
  const cluster = {
    targetTopics: new Set([TOPIC]),
    async refreshMetadataIfNecessary() {},
    async refreshMetadata() {},
    async addMultipleTargetTopics() {},
    async connect() {},
    isConnected: () => true,
    removeBroker() {},
    findTopicPartitionMetadata: () =>
      [...leaders].map(([partitionId, leader]) => ({ partitionId, leader, partitionErrorCode: 0 })),
    findLeaderForPartitions: (_topic: string, partitions: string[]) => {
      const out: Record<number, number[]> = {}
      for (const p of partitions.map(Number)) (out[leaders.get(p)!] ??= []).push(p)
      return out
    },
    findBroker: async ({ nodeId }: { nodeId: string | number }) => brokers.get(Number(nodeId)),
  }
  return { cluster, written }
}

const eosManager = {
  acquireBrokerLock: async () => undefined,
  releaseBrokerLock: async () => undefined,
  isTransactional: () => false,
  getSequence: () => 0,
  updateSequence: () => undefined,
  getProducerId: () => -1,
  getProducerEpoch: () => 0,
}
const logger = { debug() {}, info() {}, warn() {}, error() {} }

test('kafkajs send: a partition whose leader moved to a broker that already answered is still produced', async () => {
  const { cluster, written } = twoBrokerCluster()
  const send = sendMessages({
    logger,
    cluster,
    partitioner: DefaultPartitioner(),
    eosManager,
    retrier: createRetry({ retries: 3, initialRetryTime: 1, maxRetryTime: 5 }),
  })
  const responses = await send({
    acks: -1,
    topicMessages: [
      {
        topic: TOPIC,
        messages: [
          { value: 'a', partition: 0 },
          { value: 'b', partition: 1 },
          { value: 'c', partition: 0 },
        ],
      },
    ],
  })
  assert.deepEqual(
    responses.map((r) => r.partition).sort(),
    [0, 1],
    'the send resolves with a response for every partition it produced to',
  )
  assert.deepEqual(
    written.filter((w) => w.partition === 0),
    [{ broker: 1, partition: 0, count: 2 }],
    'partition 0 was written once, by its new leader',
  )
  assert.deepEqual(
    written.filter((w) => w.partition === 1),
    [{ broker: 1, partition: 1, count: 1 }],
    'partition 1, confirmed in the first attempt, was not sent again',
  )
})
