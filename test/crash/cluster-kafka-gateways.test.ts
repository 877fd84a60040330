/**
 * Several gateways, one core (DESIGN.md invariants 1 and 8): three gateways with their own gateway
 * ids and their own devices feed the same 3-node Kafka cluster, the way a site of several gateways
 * feeds one data center.
 *
 * - Uplink: every acknowledged message of every gateway's devices is in the shared topic, in each
 *   device's order, and `edgebridge audit` with the three loss ledgers tells the gateways apart: three
 *   gateways, each with its own whole seq range, nothing unexplained.
 * - Downlink: with one shared `core.groupId` the gateways form one consumer group, so each command
 *   reaches exactly one of them (Kafka splits the partitions); with a group each (the default, from
 *   the gateway id) every gateway gets every command.
 *
 * The gateways run in this process (the daemon's own start and stop, disk spools): nothing is killed
 * here; the kill-and-bounce evidence is cluster-kafka.test.ts.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { Kafka, logLevel, type Producer } from 'kafkajs'
import { Daemon } from '../../src/daemon.js'
import { silentLogger } from '../../src/observability/logger.js'
import { testConfig } from '../support/config.js'
import { DeviceFleet } from '../support/device-fleet.js'
import { uniqueName } from '../support/env.js'
import { connectDevice } from '../support/ingress.js'
import { startKafkaCluster, type KafkaCluster } from '../support/kafka-cluster.js'
import { waitUntil } from '../support/wait-until.js'
import { collectUntilComplete, kafkaTopicReader } from './core-collectors.js'
import { assertAuditClean, auditAtCore } from './core-audit.js'
import { Cleanup, sleep, tempDataDir } from './scenario.js'
import { judge, summary } from './verdict.js'

const GATEWAYS = 3
const DEVICES_PER_GATEWAY = 5
const RATE_PER_GATEWAY = 300 // messages per second
const LOAD_MS = 10_000
const COMMANDS = 30
const PARTITIONS = 3
const REPLICAS = [
  [1, 2, 3],
  [2, 3, 1],
  [3, 1, 2],
]

let cluster: KafkaCluster
const files = new Cleanup()
before(async () => {
  cluster = files.add(await startKafkaCluster(), (c) => c.close())
})
after(() => files.run())

interface Gateway {
  id: string
  daemon: Daemon
  dataDir: string
  url: string
}

/** Starts `GATEWAYS` daemons into the cluster (registered with `cleanup`), `groupId` '' = each its own. */
async function startGateways(
  cleanup: Cleanup,
  options: { prefix: string; uplinkTopic: string; commandTopic?: string; groupId?: string },
): Promise<Gateway[]> {
  const gateways: Gateway[] = []
  for (let g = 0; g < GATEWAYS; g++) {
    const id = `${options.prefix}-gw${g}`
    const data = cleanup.add(await tempDataDir(), (d) => d.remove())
    const config = testConfig({
      gatewayId: id,
      dataDir: data.dir,
      spool: { kind: 'disk', fsync: 'always' },
      core: { backend: 'kafka', groupId: options.groupId ?? '' },
      kafka: { brokers: cluster.brokers, topic: options.uplinkTopic, createTopics: false },
      ...(options.commandTopic === undefined
        ? {}
        : { downlink: { enabled: true, rules: [{ source: options.commandTopic }] } }),
    })
    const daemon = cleanup.add(await Daemon.start(config, silentLogger()), (d) => d.stop())
    gateways.push({ id, daemon, dataDir: data.dir, url: `mqtt://127.0.0.1:${daemon.ingress.ports()[0]}` })
  }
  return gateways
}

async function coreProducer(cleanup: Cleanup): Promise<Producer> {
  const producer = new Kafka({
    brokers: cluster.brokers,
    clientId: 'edgebridge-test-core',
    logLevel: logLevel.NOTHING,
  }).producer()
  await producer.connect()
  return cleanup.add(producer, (p) => p.disconnect())
}

test('cluster - Kafka: three gateways feed one topic; every acknowledged message arrives and the audit tells the gateways apart', async (t) => {
  const cleanup = new Cleanup()
  t.after(() => cleanup.run())
  const topic = uniqueName('gateways-up')
  await cluster.createTopic(topic, REPLICAS)
  const gateways = await startGateways(cleanup, { prefix: topic, uplinkTopic: topic })
  const fleets = await Promise.all(
    gateways.map((gw, g) =>
      DeviceFleet.start({
        url: gw.url,
        devices: DEVICES_PER_GATEWAY,
        firstDevice: g * DEVICES_PER_GATEWAY,
        ratePerSecond: RATE_PER_GATEWAY,
        topic: (i) => `sensors/${i}`,
      }),
    ),
  )
  for (const fleet of fleets) cleanup.add(fleet, (f) => f.close())

  await sleep(LOAD_MS)
  for (const fleet of fleets) fleet.stopPublishing()
  await Promise.all(fleets.map((f) => f.drain(60_000)))
  const acknowledged = new Map(fleets.flatMap((f) => [...f.acknowledged()]))
  const { arrivals } = await collectUntilComplete(
    kafkaTopicReader(cluster.brokers, topic),
    acknowledged,
    60_000,
  )
  const verdict = judge(acknowledged, arrivals)
  console.log(summary('gateways', verdict, { gateways: GATEWAYS, devices: GATEWAYS * DEVICES_PER_GATEWAY }))
  assert.ok(verdict.acknowledged > 0, 'the devices were acknowledged')
  assert.equal(verdict.lost, 0, `lost: ${verdict.lostExamples.join(', ')}`)
  assert.deepEqual(verdict.orderViolations, [], 'per-device order at the core')
  assert.equal(verdict.foreign, 0)

  const audit = await auditAtCore(
    'gateways',
    topic,
    { EDGEBRIDGE_BACKEND: 'kafka', EDGEBRIDGE_KAFKA_BROKERS: cluster.brokers.join(',') },
    gateways.map((gw) => gw.dataDir),
  )
  const reports = assertAuditClean(audit)
  assert.deepEqual(reports.map((r) => r.gatewayId).sort(), gateways.map((gw) => gw.id).sort())
  for (const [g, gw] of gateways.entries()) {
    const r = reports.find((x) => x.gatewayId === gw.id)!
    // No kills: each gateway's seqs are 1..n without a gap, one record per acknowledged message.
    const acked = fleets[g]!.counts().acknowledged
    assert.deepEqual([r.lowestSeq, r.highestSeq, r.distinct], [1, acked, acked], `${gw.id}: seqs 1..${acked}`)
  }
})

test('cluster - Kafka downlink: one shared groupId splits the commands between gateways; a group each gives every gateway every command', async (t) => {
  const cleanup = new Cleanup()
  t.after(() => cleanup.run())
  const commands = uniqueName('gateways-cmd')
  const uplink = uniqueName('gateways-dl-up')
  await cluster.createTopic(commands, REPLICAS)
  await cluster.createTopic(uplink, REPLICAS)
  const core = await coreProducer(cleanup)

  /** Starts the gateways, each with a device on cmd/#, and waits until each gateway's group consumes. */
  const fleetOfGateways = async (
    run: Cleanup,
    groupId: string,
  ): Promise<Array<{ gw: Gateway; received: string[] }>> => {
    const gateways = await startGateways(run, {
      prefix: uniqueName('dl'),
      uplinkTopic: uplink,
      commandTopic: commands,
      groupId,
    })
    const devices: Array<{ gw: Gateway; received: string[] }> = []
    for (const gw of gateways) {
      const client = run.add(await connectDevice(gw.url, uniqueName('cmd-dev')), (c) => c.endAsync())
      const received: string[] = []
      client.on('message', (topic) => received.push(topic))
      await client.subscribeAsync('cmd/#', { qos: 1 })
      devices.push({ gw, received })
    }
    // A group starts at the end of each partition once it has it: probe every partition until every
    // gateway's device has had a probe, so each gateway holds partitions and consumes.
    let probe = 0
    await waitUntil(
      async () => {
        if (devices.every((d) => d.received.some((topic) => topic.startsWith('cmd/probe/')))) return true
        await core.send({
          topic: commands,
          messages: Array.from({ length: PARTITIONS }, (_, partition) => ({
            partition,
            value: 'probe',
            headers: { 'mqtt.topic': `cmd/probe/${probe++}` },
          })),
        })
        await sleep(500)
        return false
      },
      120_000,
      `every gateway consuming ${commands} (group ${groupId || 'of its own'})`,
    )
    return devices
  }

  const sendCommands = async (round: string): Promise<string[]> => {
    const topics = Array.from({ length: COMMANDS }, (_, i) => `cmd/${round}/${i}`)
    await core.send({
      topic: commands,
      messages: topics.map((topic, i) => ({
        partition: i % PARTITIONS,
        value: 'go',
        headers: { 'mqtt.topic': topic },
      })),
    })
    return topics
  }
  const ofRound = (received: string[], round: string) => received.filter((x) => x.startsWith(`cmd/${round}/`))

  // One shared group: the three gateways split the partitions, each command reaches one of them.
  const shared = cleanup.add(new Cleanup(), (c) => c.run())
  const sharedDevices = await fleetOfGateways(shared, uniqueName('shared-group'))
  const sent = await sendCommands('shared')
  await waitUntil(
    () => sharedDevices.reduce((n, d) => n + ofRound(d.received, 'shared').length, 0) >= COMMANDS,
    60_000,
    'every command at some gateway',
  )
  await sleep(2_000) // a command delivered twice would show up by now
  const perGateway = sharedDevices.map((d) => ofRound(d.received, 'shared'))
  console.log(
    `gateways downlink: shared group, commands per gateway ${perGateway.map((x) => x.length).join(',')}`,
  )
  assert.deepEqual(perGateway.flat().sort(), [...sent].sort(), 'each command reached exactly one gateway')
  assert.ok(
    perGateway.filter((x) => x.length > 0).length >= 2,
    `the group split the commands (${perGateway.map((x) => x.length).join(',')})`,
  )
  await shared.run()

  // A group each: every gateway gets every command.
  const own = cleanup.add(new Cleanup(), (c) => c.run())
  const ownDevices = await fleetOfGateways(own, '')
  const sentAgain = await sendCommands('own')
  await waitUntil(
    () => ownDevices.every((d) => ofRound(d.received, 'own').length >= COMMANDS),
    60_000,
    'every command at every gateway',
  )
  await sleep(2_000)
  for (const d of ownDevices) {
    assert.deepEqual(
      ofRound(d.received, 'own').sort(),
      [...sentAgain].sort(),
      `${d.gw.id} got every command once`,
    )
  }
})
