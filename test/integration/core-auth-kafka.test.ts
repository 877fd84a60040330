/**
 * An authenticated connection to Kafka: a private KRaft broker with a SASL_PLAINTEXT listener that
 * accepts SCRAM-SHA-256 user `edge` only (credentials stored when the storage is formatted). The
 * daemon, configured through the real loader with the SASL password in kafka.sasl.passwordFile,
 * produces a device's message over that listener and a consumer reads it; a wrong password is a
 * non-retriable BACKEND_AUTH and the gateway stays up, spooling.
 *
 * The broker also keeps a PLAINTEXT listener, used only by the readiness probe and the test consumer.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Kafka, logLevel, type SASLOptions } from 'kafkajs'
import { createKafkaBackend } from '../../src/backends/kafka/kafka-backend.js'
import { silentLogger } from '../../src/observability/logger.js'
import {
  configFromEnv,
  oneRecord,
  refusalCodes,
  rejectsWithAuth,
  secretDir,
  startLoggedDaemon,
  type SecretDir,
} from '../support/auth-daemon.js'
import { uniqueName } from '../support/env.js'
import { connectDevice } from '../support/ingress.js'
import { startKafkaServer, type KafkaServer } from '../support/kafka-server.js'
import { waitUntil } from '../support/wait-until.js'
import { consumeTopic, createTopic } from '../kafka/consume.js'

const USER = 'edge'
const PASSWORD = 's3cret-kafka'

describe('core auth - kafka with SASL/SCRAM-SHA-256', () => {
  let server: KafkaServer
  let secrets: SecretDir

  before(async () => {
    server = await startKafkaServer({
      sasl: { mechanism: 'SCRAM-SHA-256', users: [{ name: USER, password: PASSWORD }] },
    })
    secrets = await secretDir()
  })
  after(async () => {
    await server?.close()
    await secrets?.remove()
  })

  /** The kafka section as the daemon loads it, pointed at the SASL listener. */
  const saslEnv = (topic: string, passwordEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
    EDGEBRIDGE_KAFKA_BROKERS: server.saslBrokers.join(','),
    EDGEBRIDGE_KAFKA_TOPIC: topic,
    EDGEBRIDGE_KAFKA_CREATE_TOPICS: 'true',
    EDGEBRIDGE_KAFKA_SASL_MECHANISM: 'scram-sha-256',
    EDGEBRIDGE_KAFKA_SASL_USERNAME: USER,
    ...passwordEnv,
  })

  it('core auth - kafka: the SASL listener refuses a client without credentials and admits user edge (the test broker is really locked)', async () => {
    const listTopics = async (sasl?: SASLOptions): Promise<string[]> => {
      const kafka = new Kafka({
        brokers: server.saslBrokers,
        clientId: 'auth-probe',
        connectionTimeout: 2_000,
        requestTimeout: 3_000,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
        ...(sasl ? { sasl } : {}),
      })
      const admin = kafka.admin({ retry: { retries: 0 } })
      try {
        await admin.connect()
        return await admin.listTopics()
      } finally {
        await admin.disconnect().catch(() => undefined)
      }
    }
    await assert.rejects(listTopics())
    await listTopics({ mechanism: 'scram-sha-256', username: USER, password: PASSWORD })
  })

  it('core auth - kafka: the daemon produces over SCRAM with the password from kafka.sasl.passwordFile; a consumer reads it', async () => {
    const topic = uniqueName('auth-kafka')
    await createTopic(server.brokers, topic)
    const consumer = await consumeTopic(server.brokers, topic)
    const passwordFile = await secrets.write('kafka-password', `${PASSWORD}\n`)
    const config = configFromEnv(saslEnv(topic, { EDGEBRIDGE_KAFKA_SASL_PASSWORD_FILE: passwordFile }), {
      core: { backend: 'kafka' },
    })
    assert.equal(config.kafka.sasl.password, PASSWORD, 'the loader read the file')
    const { daemon, url } = await startLoggedDaemon(config)
    try {
      const device = await connectDevice(url, 'auth-kafka')
      await device.publishAsync('sensors/a/temp', 'hello over scram', { qos: 1 })
      await waitUntil(() => consumer.received.length === 1, 30_000, 'the record in Kafka')
      assert.equal(consumer.received[0]!.value.toString(), 'hello over scram')
      assert.equal(consumer.received[0]!.key, 'auth-kafka')
      await device.endAsync()
    } finally {
      await daemon.stop()
      await consumer.close()
    }
  })

  it('core auth - kafka: a wrong password is a non-retriable BACKEND_AUTH', async () => {
    const topic = uniqueName('auth-kafka-wrong')
    const config = configFromEnv(saslEnv(topic, { EDGEBRIDGE_KAFKA_SASL_PASSWORD: 'wrong' }))
    const backend = createKafkaBackend(config, { logger: silentLogger() })
    try {
      await backend.connect()
      await rejectsWithAuth(backend.send(oneRecord(topic)))
    } finally {
      await backend.close()
    }
  })

  it('core auth - kafka: with a wrong password the daemon stays up, keeps acknowledging and logs BACKEND_AUTH', async () => {
    const topic = uniqueName('auth-kafka-wrong')
    const passwordFile = await secrets.write('kafka-wrong', 'not-the-password\n')
    const { daemon, url, log } = await startLoggedDaemon(
      configFromEnv(saslEnv(topic, { EDGEBRIDGE_KAFKA_SASL_PASSWORD_FILE: passwordFile }), {
        core: { backend: 'kafka' },
        forwarder: { drainTimeoutMs: 100 },
      }),
    )
    try {
      const device = await connectDevice(url, 'auth-kafka-wrong')
      await device.publishAsync('auth/wrong', 'kept', { qos: 1 })
      await waitUntil(() => refusalCodes(log).length > 0, 30_000, 'the forwarder to log the refusal')
      assert.deepEqual(refusalCodes(log)[0], { code: 'BACKEND_AUTH', retriable: false })
      assert.ok(!JSON.stringify(log.lines).includes('not-the-password'), 'the password is not logged')
      await device.publishAsync('auth/wrong', 'kept too', { qos: 1 })
      assert.equal(daemon.spool.stats().depthRecords, 2)
      await device.endAsync()
    } finally {
      await daemon.stop()
    }
  })
})
