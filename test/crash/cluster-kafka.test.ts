/**
 * A 3-node Kafka cluster whose partition leader keeps failing under load (DESIGN.md invariants 1, 2, 3
 * and 8; the scenario that found kafkajs issue #1303, see src/backends/kafka/confirmation.ts).
 *
 * 20 devices publish QoS 1 at 2,000 msg/s in all through the daemon (a child process, disk spool,
 * fsync always) into a topic of 3 partitions, replication factor 3, `min.insync.replicas=2`, for 60 s.
 * Every ~10 s the leader of partition 0 is SIGKILLed and started again 5 s later (once it is stopped
 * cleanly instead), and the daemon itself is SIGKILLed a few times.
 *
 * Beside it, in the same cluster and under the same faults, Apache Kafka's own Java producer
 * (idempotent, acks=all) writes the same kind of load to a topic of the same layout: if it loses
 * acknowledged records too, the cluster lost them, not the gateway.
 *
 * Verdicts, all read back without a consumer group (Kafka's Java consumer, assign and seek, every
 * partition from its beginning up to its high-water mark):
 * - the fleet's: no acknowledged message missing, each device's messages in order (first occurrences);
 * - the reference producer's: no acknowledged record missing;
 * - `edgebridge audit` with the gateway's loss ledger: no unexplained gap in the gateway's sequence,
 *   no device out of order.
 * Duplicates are counted and printed: a batch the cluster stored but could not confirm (its leader
 * died before answering) is sent again, and a batch in flight when the daemon was killed is sent again
 * by a new producer id the brokers cannot de-duplicate against.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { uniqueName } from '../support/env.js'
import { startKafkaCluster } from '../support/kafka-cluster.js'
import { readTopic, runReferenceProducer } from '../support/kafka-java-clients.js'
import { kafkaTopicReader, parseArrival } from './core-collectors.js'
import { assertAuditClean, auditAtCore } from './core-audit.js'
import {
  Cleanup,
  finishRun,
  fleetOn,
  killRepeatedly,
  leaderBounces,
  seededRandom,
  spooledDaemon,
  tempDataDir,
} from './scenario.js'
import { judge, summary } from './verdict.js'

const DEVICES = 20
const RATE_PER_SECOND = Number(process.env.EDGEBRIDGE_CLUSTER_RATE ?? 2_000) // the whole fleet
/** The Java reference producer's load, beside the fleet's (the same machine carries both). */
const REFERENCE_RATE_PER_SECOND = 1_000
const LOAD_MS = 60_000 // 60 s of load and failures
const BOUNCE_EVERY_MS = 10_000 // the leader of partition 0 fails this often
const DOWN_MS = 5_000 // how long a failed leader stays down
const GATEWAY_KILLING_MS = 36_000 // the daemon is SIGKILLed every 12-16 s during the first 36 s
const CLEAN_BOUNCE = 3 // the third bounce is a clean shutdown (SIGTERM), the others SIGKILL
/** Partition p's replicas, preferred leader first: every node leads one partition of each topic. */
const REPLICAS = [
  [1, 2, 3],
  [2, 3, 1],
  [3, 1, 2],
]
const seed = Number(process.env.EDGEBRIDGE_CRASH_SEED ?? Date.now() % 1_000_000)

test(
  'cluster - Kafka (3 nodes, RF 3, min ISR 2): leader bounces and gateway kills under load lose nothing acknowledged',
  { timeout: 600_000 },
  async (t) => {
    const cleanup = new Cleanup()
    t.after(() => cleanup.run())
    const data = cleanup.add(await tempDataDir(), (d) => d.remove())
    const cluster = cleanup.add(await startKafkaCluster(), (c) => c.close())
    const topic = uniqueName('leader-bounce')
    const referenceTopic = `${topic}.reference`
    await cluster.createTopic(topic, REPLICAS)
    await cluster.createTopic(referenceTopic, REPLICAS)

    const daemon = await spooledDaemon(cleanup, {
      name: 'edgebridge (kafka cluster)',
      dataDir: data.dir,
      gatewayId: topic,
      env: {
        EDGEBRIDGE_BACKEND: 'kafka',
        EDGEBRIDGE_KAFKA_BROKERS: cluster.brokers.join(','),
        EDGEBRIDGE_KAFKA_TOPIC: topic,
      },
    })
    const collector = kafkaTopicReader(cluster.brokers, topic)
    const reference = await runReferenceProducer({
      brokers: cluster.brokers,
      topic: referenceTopic,
      devices: DEVICES,
      ratePerSecond: REFERENCE_RATE_PER_SECOND,
      ackFile: join(data.dir, 'reference-acks.txt'),
    })
    // stop() is idempotent: the cleanup's call after a failed run waits for the same exit.
    cleanup.add(reference, (r) => r.stop().catch(() => undefined))
    const fleet = await fleetOn(cleanup, daemon, { devices: DEVICES, ratePerSecond: RATE_PER_SECOND })

    const random = seededRandom(seed)
    const [bounced, gatewayKills] = await Promise.all([
      leaderBounces(
        async () => {
          const leader = await cluster.leaderOf(topic, 0)
          return {
            name: `node${leader}`,
            stop: (clean) => cluster.stop(leader, { kill: !clean }),
            start: () => cluster.start(leader),
          }
        },
        { loadMs: LOAD_MS, everyMs: BOUNCE_EVERY_MS, downMs: DOWN_MS, cleanAt: CLEAN_BOUNCE, random },
      ),
      // Crashes at moments independent of the bounces, none in the last 20 s (see cluster-jetstream).
      killRepeatedly(daemon, { durationMs: GATEWAY_KILLING_MS, minMs: 12_000, maxMs: 16_000, random }),
    ])

    // The reference producer stops with the faults; its verdict comes from the same kind of reading.
    const referenceAcks = await reference.stop()
    const referenceVerdict = judge(
      referenceAcks,
      (await readTopic(cluster.brokers, referenceTopic)).map((r) => parseArrival(r.value)),
    )
    console.log(summary('cluster-reference', referenceVerdict, { producer: 'java', seed }))

    const { verdict } = await finishRun(
      'cluster',
      { daemon, fleet, collector },
      {
        backend: 'kafka',
        nodes: 3,
        replicas: 3,
        seed,
        bounces: bounced.length,
        bounced: bounced.join(','),
        gatewayKills,
      },
    )

    const audit = await auditAtCore(
      'cluster',
      topic,
      { EDGEBRIDGE_BACKEND: 'kafka', EDGEBRIDGE_KAFKA_BROKERS: cluster.brokers.join(',') },
      [data.dir],
    )
    assert.ok(bounced.length >= 4, `the leader was bounced at least 4 times (${bounced.join(',')})`)
    assert.ok(gatewayKills >= 2, `the gateway was killed at least twice (${gatewayKills})`)
    assert.ok(referenceVerdict.acknowledged > 0, 'the reference producer had records acknowledged')
    assert.equal(
      referenceVerdict.lost,
      0,
      `the cluster itself lost: ${referenceVerdict.lostExamples.join(', ')}`,
    )
    assert.equal(audit.report.gateways.length, 1)
    assert.equal(audit.report.records, verdict.arrived, 'the audit read what the fleet verdict read')
    assertAuditClean(audit)
  },
)
