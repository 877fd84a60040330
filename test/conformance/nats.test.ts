/** The conformance suite against a real NATS server, core publish (`nats` backend). */
import { startNatsServer } from '../support/servers.js'
import { testConfig } from '../support/config.js'
import { defineBackendConformance, PROVENANCE_HEADERS } from './suite.js'
import { NATS_MAX_TEST_PAYLOAD, natsSubjectConsumer } from './nats-consumers.js'

defineBackendConformance({
  name: 'nats',
  backend: 'nats',
  config: ({ address }) =>
    testConfig({ core: { backend: 'nats' }, nats: address === undefined ? {} : { servers: [address] } }),
  consume: natsSubjectConsumer,
  expectedMetadata: PROVENANCE_HEADERS,
  startPrivateServer: async () => {
    const server = await startNatsServer()
    return { address: server.url, stop: server.stop, start: server.start, close: server.close }
  },
  maxPayloadBytes: NATS_MAX_TEST_PAYLOAD,
})
