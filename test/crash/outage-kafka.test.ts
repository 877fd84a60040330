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
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { DaemonProcess } from '../support/daemon-process.js'
import { DeviceFleet } from '../support/device-fleet.js'
import { uniqueName } from '../support/env.js'
import { startKafkaServer } from '../support/kafka-server.js'
import { kafkaTopicCollector } from './core-collectors.js'
import { Cleanup, coreOutage, finishRun, tempDataDir } from './scenario.js'

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
  const daemon = await DaemonProcess.start({
    name: 'edgebridge (kafka)',
    env: {
      EDGEBRIDGE_BACKEND: 'kafka',
      EDGEBRIDGE_KAFKA_BROKERS: kafka.brokers.join(','),
      EDGEBRIDGE_KAFKA_TOPIC: topic,
      EDGEBRIDGE_KAFKA_CREATE_TOPICS: 'true',
      EDGEBRIDGE_DATA_DIR: data.dir,
      EDGEBRIDGE_GATEWAY_ID: topic,
      EDGEBRIDGE_SPOOL_KIND: 'disk',
      EDGEBRIDGE_SPOOL_FSYNC: 'always',
      EDGEBRIDGE_LOG_LEVEL: 'info',
      // Retry at least every second, so the backlog starts draining soon after the broker is back.
      EDGEBRIDGE_FORWARDER_RETRY_MAX_MS: '1000',
    },
  })
  cleanup.add(daemon, (x) => x.close())
  const collector = kafkaTopicCollector(kafka.brokers, topic)
  cleanup.add(collector, (x) => x.close())
  const fleet = await DeviceFleet.start({
    url: `mqtt://127.0.0.1:${daemon.mqttPort}`,
    devices: DEVICES,
    ratePerSecond: RATE_PER_SECOND,
    topic: (i) => `sensors/${i}`,
  })
  cleanup.add(fleet, (x) => x.close())

  const outage = await coreOutage(
    { fleet, collector, core: kafka },
    { beforeMs: 5_000, outageMs: OUTAGE_MS, afterMs: 5_000 },
  )
  assert.ok(outage.acknowledgedDuringOutage > 0, 'devices were acknowledged while Kafka was down')
  await finishRun(
    'outage',
    { daemon, fleet, collector },
    {
      backend: 'kafka',
      outageMs: outage.outageMs,
      acknowledgedDuringOutage: outage.acknowledgedDuringOutage,
      backlogDrainMs: outage.backlogDrainMs,
    },
  )
})
