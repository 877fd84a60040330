import { defineBackendConformance, PROVENANCE_HEADERS } from './suite.js'
import { testConfig } from '../support/config.js'
import { testKafkaBrokers } from '../support/env.js'
import { startKafkaServer } from '../support/kafka-server.js'
import { consumeTopic, createTopic, topicExists } from '../kafka/consume.js'

defineBackendConformance({
  name: 'kafka',
  backend: 'kafka',
  config: ({ address }) =>
    testConfig({
      core: { backend: 'kafka' },
      kafka: {
        brokers: address === undefined ? testKafkaBrokers() : address.split(','),
        createTopics: true,
        partitions: 1,
      },
    }),
  consume: async (config, target) => {
    // Made here with room for the 1 MiB case (Kafka's default limit is 1 MB per batch, headers
    // included); when the backend already created the topic, it is read as it is.
    if (!(await topicExists(config.kafka.brokers, target))) await createTopic(config.kafka.brokers, target)
    const consumer = await consumeTopic(config.kafka.brokers, target)
    return {
      get received() {
        return consumer.received.map((m) => ({ payload: m.value, metadata: m.headers }))
      },
      close: () => consumer.close(),
    }
  },
  expectedMetadata: PROVENANCE_HEADERS,
  startPrivateServer: async () => {
    const server = await startKafkaServer()
    return {
      address: server.brokers.join(','),
      stop: () => server.stop(),
      start: () => server.start(),
      close: () => server.close(),
    }
  },
  receiveTimeoutMs: 30_000,
})
