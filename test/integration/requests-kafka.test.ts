/**
 * Request/reply over Kafka in Hono's convention (request records with `correlation-id` and `reply-to`
 * headers, answers on the reply topic keyed by device), through the shared request scenarios with
 * real MQTT devices.
 */
import { describe } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { consumeTopic, createTopic } from '../kafka/consume.js'
import { uniqueName } from '../support/env.js'
import { closeAtEnd } from '../support/daemon-under-test.js'
import { kafkaForFile } from '../support/kafka-for-file.js'
import { requestScenarios, type CoreAnswer, type Requester } from '../support/request-scenarios.js'

const kafkaBrokers = kafkaForFile()

async function kafkaRequester(): Promise<Requester> {
  const brokers = kafkaBrokers()
  const requests = uniqueName('rq-requests')
  const replies = uniqueName('rq-replies')
  const groupId = uniqueName('group')
  await createTopic(brokers, requests)
  await createTopic(brokers, replies)
  const client = new Kafka({ brokers, clientId: 'edgebridge-test-core', logLevel: logLevel.NOTHING })
  // The group starts at offset 0, so a request sent before the gateway joined is not missed (a new
  // group would start at the topic's end).
  const admin = client.admin()
  await admin.connect()
  await admin.setOffsets({ groupId, topic: requests, partitions: [{ partition: 0, offset: '0' }] })
  await admin.disconnect()
  const producer = client.producer()
  await producer.connect()
  closeAtEnd(() => producer.disconnect())
  const consumer = await consumeTopic(brokers, replies)
  closeAtEnd(() => consumer.close())
  const answers = new Map<string, CoreAnswer[]>()
  let seen = 0
  const poll = setInterval(() => {
    for (const m of consumer.received.slice(seen)) {
      const h = m.headers
      answers.get(h['correlation-id'] ?? '')?.push({
        status: h.status ?? '',
        origin: h.origin ?? '',
        device: m.key ?? '',
        id: h['correlation-id'] ?? '',
        payload: m.value.toString(),
        reason: h.reason ?? '',
      })
    }
    seen = consumer.received.length
  }, 20)
  closeAtEnd(async () => clearInterval(poll))
  return {
    config: (timeoutMs) => ({
      gatewayId: uniqueName('gw'),
      core: { backend: 'kafka', groupId },
      kafka: { brokers },
      requests: { enabled: true, timeoutMs, rules: [{ source: requests }] },
    }),
    async ask(device, method, payload, id = uniqueName('req')) {
      const got: CoreAnswer[] = []
      answers.set(id, got)
      await producer.send({
        topic: requests,
        messages: [
          { key: device, value: payload, headers: { 'correlation-id': id, 'reply-to': replies, method } },
        ],
      })
      return got
    },
  }
}

describe('requests - kafka', () => requestScenarios(kafkaRequester))
