/**
 * A Kafka outage under load (DESIGN.md invariants 2, 3, 4): the daemon (a child process, disk spool,
 * fsync always, backend kafka) keeps acknowledging devices into its spool while its broker is stopped
 * for at least 30 s, and forwards the whole backlog, in order, once the broker is back.
 *
 * The broker is private (startKafkaServer: one KRaft node), stopped with SIGTERM and started again on
 * the same ports and log directories, so the topic keeps what it had; the topic is read from its
 * beginning at the end. Starting a JVM broker takes tens of seconds, so the outage is longer than the
 * 30 s the broker is held down.
 */
import { test } from 'node:test'
import { uniqueName } from '../support/env.js'
import { startKafkaServer } from '../support/kafka-server.js'
import { kafkaTopicCollector } from './core-collectors.js'
import { Cleanup, outageUnderLoad, tempDataDir } from './scenario.js'

const DEVICES = 10
const RATE_PER_SECOND = 300 // the whole fleet; two JVM brokers may share the machine
const OUTAGE_MS = 30_000 // 30 s with the broker stopped (plus its start-up time)

test('outage - a 30 s Kafka outage under load loses nothing acknowledged and drains in order (kafka)', async (t) => {
  const cleanup = new Cleanup()
  t.after(() => cleanup.run())
  const data = cleanup.add(await tempDataDir(), (d) => d.remove())
  const kafka = await startKafkaServer()
  cleanup.add(kafka, (x) => x.close())

  const topic = uniqueName('outage')
  const collector = cleanup.add(kafkaTopicCollector(kafka.brokers, topic), (x) => x.close())
  await outageUnderLoad(cleanup, {
    backend: 'kafka',
    coreName: 'Kafka',
    core: kafka,
    backendEnv: {
      EDGEBRIDGE_KAFKA_BROKERS: kafka.brokers.join(','),
      EDGEBRIDGE_KAFKA_TOPIC: topic,
      EDGEBRIDGE_KAFKA_CREATE_TOPICS: 'true',
    },
    gatewayId: topic,
    dataDir: data.dir,
    collector,
    topic: (i) => `sensors/${i}`,
    devices: DEVICES,
    ratePerSecond: RATE_PER_SECOND,
    outageMs: OUTAGE_MS,
  })
})
