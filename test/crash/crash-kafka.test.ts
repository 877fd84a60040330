/**
 * Crash safety with the kafka backend (DESIGN.md invariants 1, 2, 3, 5): 10 devices publish QoS 1 at
 * 500 msg/s in all while the daemon, a real child process with a disk spool (fsync always), is
 * SIGKILLed every 1-4 s for 30 s, often with a produce request in flight, and started again on the same
 * data directory. The topic (created by the daemon: kafka.createTopics) is read from its beginning at
 * the end.
 *
 * Duplicates are expected here and printed: a batch Kafka stored but whose response died with the
 * process is sent again after the restart by a new producer id, which the broker cannot de-duplicate
 * against the old one. What may never happen is an acknowledged message missing, or a device's
 * messages out of order (first occurrences).
 */
import { test } from 'node:test'
import { testKafkaBrokers, uniqueName } from '../support/env.js'
import { kafkaTopicCollector } from './core-collectors.js'
import { crashTestStart, fleetOn, killAtRandomThenFinish, spooledDaemon } from './scenario.js'

const DEVICES = 10
const RATE_PER_SECOND = 500 // the whole fleet; Kafka's JVM shares the machine
const KILLING_MS = 30_000 // 30 s of random kills
// Forwarding a little slower than the devices publish keeps a backlog in the spool that grows through
// the run, so every kill finds thousands of acknowledged records on disk that only the spool's
// recovery can save (with prompt forwarding the spool is nearly empty at most kills).
const FORWARD_RATE_PER_SECOND = 450
const seed = Number(process.env.EDGEBRIDGE_CRASH_SEED ?? Date.now() % 1_000_000)

test('crash - SIGKILL mid-batch loses no acknowledged message (kafka, disk spool)', async (t) => {
  const { cleanup, dataDir } = await crashTestStart(t)
  const topic = uniqueName('crash')
  const brokers = testKafkaBrokers()
  const daemon = await spooledDaemon(cleanup, {
    name: 'edgebridge (kafka)',
    dataDir,
    gatewayId: topic,
    env: {
      EDGEBRIDGE_BACKEND: 'kafka',
      EDGEBRIDGE_KAFKA_BROKERS: brokers.join(','),
      EDGEBRIDGE_KAFKA_TOPIC: topic,
      EDGEBRIDGE_KAFKA_CREATE_TOPICS: 'true',
      EDGEBRIDGE_FORWARDER_REPLAY_RATE_LIMIT: String(FORWARD_RATE_PER_SECOND),
    },
  })
  const collector = cleanup.add(kafkaTopicCollector(brokers, topic), (x) => x.close())
  const fleet = await fleetOn(cleanup, daemon, { devices: DEVICES, ratePerSecond: RATE_PER_SECOND })

  await killAtRandomThenFinish(
    { daemon, fleet, collector },
    { backend: 'kafka', seed, killingMs: KILLING_MS },
  )
})
