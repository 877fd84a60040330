/**
 * A real 3-node Apache Kafka cluster for the tests that need replication: KRaft, every node both broker
 * and controller (a static quorum of three voters), replication factor 3, `min.insync.replicas=2`,
 * unclean leader election off. That is the smallest cluster on which a leader can move while every
 * acknowledged record stays safe, so tests can kill a leader and hold a producer to its promise.
 *
 * Same jars as the single broker (kafka-server.ts: Maven Central, cached in .cache/kafka), small heaps
 * (three JVMs must fit beside the daemon on a 2-core CI machine). Nodes are addressed by their node id
 * (1, 2, 3): `stop(id, { kill: true })` is a crash (SIGKILL), `start(id)` brings the same node back on
 * the same ports and log directories, `leaderOf(topic, partition)` asks the cluster who leads now.
 *
 * Each JVM is a child of the calling process and is killed when that process exits.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import {
  LOG4J2_PROPERTIES,
  SMALL_BROKER_PROPERTIES,
  clusterId,
  freePorts,
  resolveKafkaJars,
  stopBrokerJvm,
  waitUntilReady,
} from './kafka-server.js'

const execFileAsync = promisify(execFile)

const CLUSTER_FORM_TIMEOUT_MS = 180_000 // 3 min: three cold JVMs on a busy 2-core machine
const LEADER_LOOKUP_TIMEOUT_MS = 60_000 // 60 s for the cluster to name a partition's leader
const TOPIC_READY_TIMEOUT_MS = 60_000 // 60 s for a new topic's leaders to be known everywhere
const NODE_START_TIMEOUT_MS = 240_000 // 4 min: one node rejoining a cluster on a loaded machine
/**
 * JVM options for one node: a small heap, the serial collector and the client compiler only. The
 * cluster carries a few thousand records a second; three JVMs that each take a core for JIT and GC
 * threads would starve the daemon under test.
 */
const JVM_OPTIONS = [
  '-Xms96m',
  '-Xmx320m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:CICompilerCount=1',
]

export interface KafkaClusterOptions {
  /** Number of nodes (each broker and controller); default 3. */
  nodes?: number
}

export interface KafkaCluster {
  /** Bootstrap addresses of every node (host:port), in node id order. */
  readonly brokers: string[]
  /** Node ids, 1..n. */
  readonly nodeIds: number[]
  /** The PLAINTEXT address of node `id`. */
  brokerOf(id: number): string
  /** True while node `id`'s JVM runs. */
  isRunning(id: number): boolean
  /** Starts node `id` again (same ports and data) and waits until it answers. */
  start(id: number): Promise<void>
  /** Stops node `id` and keeps its data; `kill: true` is SIGKILL (a crash) instead of SIGTERM. */
  stop(id: number, options?: { kill?: boolean }): Promise<void>
  /** The node id that leads `topic`'s `partition` now, as the running nodes see it. */
  leaderOf(topic: string, partition: number): Promise<number>
  /** Creates a topic with one partition per entry of `replicas` (each entry: its replica node ids, leader first). */
  createTopic(topic: string, replicas: number[][]): Promise<void>
  /** Stops every node and removes the cluster's files; safe twice. */
  close(): Promise<void>
}

interface Node {
  id: number
  port: number
  controllerPort: number
  dir: string
  child: ChildProcess | undefined
}

export async function startKafkaCluster(options: KafkaClusterOptions = {}): Promise<KafkaCluster> {
  const count = options.nodes ?? 3
  const libs = await resolveKafkaJars()
  const classpath = `${libs}/*`
  const root = await mkdtemp(join(tmpdir(), 'edgebridge-kafka-cluster-'))
  const ports = await freePorts(count * 2)
  const nodes: Node[] = Array.from({ length: count }, (_, i) => ({
    id: i + 1,
    port: ports[2 * i]!,
    controllerPort: ports[2 * i + 1]!,
    dir: join(root, `node-${i + 1}`),
    child: undefined,
  }))
  const voters = nodes.map((n) => `${n.id}@127.0.0.1:${n.controllerPort}`).join(',')
  const brokers = nodes.map((n) => `127.0.0.1:${n.port}`)
  const id = clusterId()
  let closed = false

  const killOnExit = (): void => {
    for (const n of nodes) n.child?.kill('SIGKILL')
  }
  process.once('exit', killOnExit)

  const node = (nodeId: number): Node => {
    const n = nodes.find((x) => x.id === nodeId)
    if (n === undefined) throw new RangeError(`no Kafka node ${nodeId} (nodes are 1..${count})`)
    return n
  }

  const props = (n: Node): string => join(n.dir, 'server.properties')
  const log4j = join(root, 'log4j2.properties')
  writeFileSync(log4j, LOG4J2_PROPERTIES)

  const format = async (n: Node): Promise<void> => {
    mkdirSync(n.dir, { recursive: true })
    writeFileSync(props(n), nodeProperties(n, voters, count))
    await execFileAsync(
      'java',
      [
        ...JVM_OPTIONS,
        '-cp',
        classpath,
        `-Dlog4j2.configurationFile=${log4j}`,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        id,
        '-c',
        props(n),
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    ).catch((err: { message: string; stdout?: string }) => {
      throw new Error(`formatting Kafka node ${n.id} failed: ${err.message}\n${err.stdout ?? ''}`)
    })
  }

  /** Spawns the JVM; resolves once it runs (readiness is waited for separately). */
  const spawnNode = (n: Node): { proc: ChildProcess; exited: () => boolean; logPath: string } => {
    const logPath = join(n.dir, 'broker.log')
    const fd = openSync(logPath, 'a')
    const proc = spawn(
      'java',
      [
        ...JVM_OPTIONS,
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${log4j}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        props(n),
      ],
      { stdio: ['ignore', fd, fd] },
    )
    closeSync(fd)
    n.child = proc
    let exited = false
    proc.once('exit', () => {
      exited = true
      if (n.child === proc) n.child = undefined
    })
    return { proc, exited: () => exited, logPath }
  }

  const start = async (nodeId: number): Promise<void> => {
    if (closed) throw new Error('Kafka test cluster is closed')
    const n = node(nodeId)
    if (n.child !== undefined) return
    const { proc, exited, logPath } = spawnNode(n)
    try {
      await waitUntilReady([brokers[n.id - 1]!], exited, logPath, NODE_START_TIMEOUT_MS)
    } catch (err) {
      proc.kill('SIGKILL')
      throw err
    }
  }

  const stop = async (nodeId: number, stopOptions: { kill?: boolean } = {}): Promise<void> => {
    const n = node(nodeId)
    await stopBrokerJvm(n.child, stopOptions.kill === true)
    n.child = undefined
  }

  /** A short-lived admin client on the running nodes (a fresh one sees fresh metadata). */
  const withAdmin = async <T>(fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> => {
    const running = nodes.filter((n) => n.child !== undefined).map((n) => brokers[n.id - 1]!)
    const kafka = new Kafka({
      brokers: running.length > 0 ? running : brokers,
      clientId: 'edgebridge-test-cluster',
      connectionTimeout: 2_000,
      requestTimeout: 10_000,
      retry: { retries: 5, initialRetryTime: 200 },
      logLevel: logLevel.NOTHING,
    })
    const admin = kafka.admin()
    await admin.connect()
    try {
      return await fn(admin)
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  }

  /** Asks again until LEADER_LOOKUP_TIMEOUT_MS: right after a kill, metadata requests may time out. */
  const leaderOf = async (topic: string, partition: number): Promise<number> => {
    const deadline = Date.now() + LEADER_LOOKUP_TIMEOUT_MS
    for (;;) {
      try {
        return await withAdmin(async (admin) => {
          const meta = await admin.fetchTopicMetadata({ topics: [topic] })
          const p = meta.topics[0]?.partitions.find((x) => x.partitionId === partition)
          if (p === undefined || p.leader < 0) throw new Error(`${topic}/${partition} has no leader now`)
          return p.leader
        })
      } catch (err) {
        if (Date.now() > deadline) throw err
        await new Promise((r) => setTimeout(r, 500))
      }
    }
  }

  const createTopic = async (topic: string, replicas: number[][]): Promise<void> => {
    await withAdmin((admin) =>
      admin.createTopics({
        waitForLeaders: false,
        topics: [{ topic, replicaAssignment: replicas.map((r, partition) => ({ partition, replicas: r })) }],
      }),
    )
    // kafkajs' waitForLeaders gives up when the broker it asks has not heard of the topic yet: wait
    // here until every node answers with a leader for every partition.
    const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS
    for (;;) {
      const ready = await withAdmin(async (admin) => {
        const meta = await admin.fetchTopicMetadata({ topics: [topic] })
        const partitions = meta.topics[0]?.partitions ?? []
        return partitions.length === replicas.length && partitions.every((p) => p.leader >= 0)
      }).catch(() => false)
      if (ready) return
      if (Date.now() > deadline)
        throw new Error(`topic ${topic} has no leaders after ${TOPIC_READY_TIMEOUT_MS} ms`)
      await new Promise((r) => setTimeout(r, 250))
    }
  }

  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await Promise.all(nodes.map((n) => stop(n.id, { kill: true })))
    process.removeListener('exit', killOnExit)
    await rm(root, { recursive: true, force: true })
  }

  try {
    await Promise.all(nodes.map(format))
    // A KRaft quorum needs a majority of voters: all nodes start together, then each must answer.
    const spawned = nodes.map((n) => ({ n, ...spawnNode(n) }))
    await Promise.all(
      spawned.map((s) =>
        waitUntilReady([brokers[s.n.id - 1]!], s.exited, s.logPath, CLUSTER_FORM_TIMEOUT_MS),
      ),
    )
    await waitForBrokers(brokers, count)
  } catch (err) {
    await close()
    throw err
  }

  return {
    brokers,
    nodeIds: nodes.map((n) => n.id),
    brokerOf: (nodeId) => brokers[node(nodeId).id - 1]!,
    isRunning: (nodeId) => node(nodeId).child !== undefined,
    start,
    stop,
    leaderOf,
    createTopic,
    close,
  }
}

/** Waits until the cluster's metadata lists `count` brokers (every node registered and unfenced). */
async function waitForBrokers(brokers: string[], count: number): Promise<void> {
  const deadline = Date.now() + CLUSTER_FORM_TIMEOUT_MS
  for (;;) {
    const kafka = new Kafka({ brokers, clientId: 'edgebridge-test-cluster', logLevel: logLevel.NOTHING })
    const admin = kafka.admin({ retry: { retries: 0 } })
    let seen = 0
    try {
      await admin.connect()
      seen = (await admin.describeCluster()).brokers.length
    } catch {
      // not formed yet
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
    if (seen >= count) return
    if (Date.now() > deadline) {
      throw new Error(
        `Kafka cluster: ${seen} of ${count} brokers registered after ${CLUSTER_FORM_TIMEOUT_MS} ms`,
      )
    }
    await new Promise((r) => setTimeout(r, 500))
  }
}

/**
 * One node's configuration. The replication settings are the ones a producer's acks=all relies on:
 * three replicas, at least two in sync to accept a write, and no unclean election (a replica that was
 * out of sync never becomes leader, so an acknowledged record is never truncated away). Session and
 * election timeouts are short so a killed leader is replaced within a few seconds.
 */
function nodeProperties(n: Node, voters: string, count: number): string {
  const rf = Math.min(3, count)
  const minIsr = Math.min(2, count)
  return `# Generated by test/support/kafka-cluster.ts: node ${n.id} of ${count}, broker and controller.
process.roles=broker,controller
node.id=${n.id}
controller.quorum.voters=${voters}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:${n.port},CONTROLLER://127.0.0.1:${n.controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${n.port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=${join(n.dir, 'data')}
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=${rf}
min.insync.replicas=${minIsr}
unclean.leader.election.enable=false
offsets.topic.replication.factor=${rf}
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=${rf}
transaction.state.log.min.isr=${minIsr}
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=${rf}
share.coordinator.state.topic.min.isr=${minIsr}
group.initial.rebalance.delay.ms=0
# A killed broker is fenced after 6 s without heartbeats (default 9 s), so its partitions move
# within the 5 s it stays down plus a little; shorter flaps under a loaded CI machine.
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
num.replica.fetchers=1
${SMALL_BROKER_PROPERTIES}`
}
