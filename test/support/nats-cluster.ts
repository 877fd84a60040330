/**
 * A 3-node NATS cluster with JetStream on loopback (Debian's `nats-server`), for the cluster tests: each
 * node has its own client port, cluster port, `server_name` and store directory, and routes to the other
 * two. Nodes can be SIGKILLed (a crash), stopped cleanly and started again on the same ports and store,
 * so a stream of 3 replicas lives through the bounces.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { natsAnswers, NATS_DEBIAN_PACKAGE } from './nats-server.js'
import { findBinary, freePort, ServerProcess } from './server-process.js'

const NODES = 3
/** How long the cluster may take to elect a JetStream meta leader, or a stream to elect its leader. */
const READY_TIMEOUT_MS = 60_000 // 1 min

export interface NatsClusterNode {
  /** server_name: n1, n2, n3. */
  readonly name: string
  readonly url: string
  readonly process: ServerProcess
}

export class NatsCluster {
  private closed = false

  private constructor(
    readonly nodes: NatsClusterNode[],
    private readonly dir: string,
  ) {}

  /** Every node's client URL, comma-separated (EDGEBRIDGE_NATS_SERVERS). */
  get servers(): string {
    return this.nodes.map((n) => n.url).join(',')
  }

  static async start(): Promise<NatsCluster> {
    const binary = findBinary('nats-server')
    if (binary === null) {
      throw new Error(`nats-server not found: install the Debian package "${NATS_DEBIAN_PACKAGE}"`)
    }
    const host = '127.0.0.1'
    const dir = await mkdtemp(join(tmpdir(), 'edgebridge-nats-cluster-'))
    const clientPorts: number[] = []
    const routePorts: number[] = []
    for (let i = 0; i < NODES; i++) {
      clientPorts.push(await freePort())
      routePorts.push(await freePort())
    }
    const nodes: NatsClusterNode[] = []
    for (let i = 0; i < NODES; i++) {
      const name = `n${i + 1}`
      const routes = routePorts.filter((_, j) => j !== i).map((p) => `"nats-route://${host}:${p}"`)
      const conf = join(dir, `${name}.conf`)
      await writeFile(
        conf,
        [
          `server_name: ${name}`,
          `listen: "${host}:${clientPorts[i]}"`,
          // Small limits: the tests store a few hundred thousand small messages.
          `jetstream { store_dir: "${join(dir, name)}", max_memory_store: 64MB, max_file_store: 2GB }`,
          `cluster { name: edgebridge-test, listen: "${host}:${routePorts[i]}", routes: [${routes.join(', ')}] }`,
        ].join('\n') + '\n',
      )
      const port = clientPorts[i]!
      nodes.push({
        name,
        url: `nats://${host}:${port}`,
        process: new ServerProcess({
          name: `nats-server ${name}`,
          binary,
          args: ['-c', conf],
          host,
          port,
          isReady: () => natsAnswers(host, port),
        }),
      })
    }
    const cluster = new NatsCluster(nodes, dir)
    try {
      await Promise.all(nodes.map((n) => n.process.start()))
      await cluster.waitForJetStream()
    } catch (err) {
      await cluster.close()
      throw err
    }
    return cluster
  }

  node(name: string): NatsClusterNode {
    const node = this.nodes.find((n) => n.name === name)
    if (node === undefined) throw new Error(`no NATS node named ${name}`)
    return node
  }

  /** A connection to any live node (the client fails over between them). */
  async connect(): Promise<NatsConnection> {
    return connect({
      servers: this.nodes.map((n) => n.url),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    })
  }

  /**
   * Creates a stream of 3 replicas capturing `subjects`. Retried while the cluster is still forming:
   * the meta leader answers before it knows every peer ("no suitable peers for placement").
   */
  async addStream(nc: NatsConnection, name: string, subjects: string[]): Promise<void> {
    const jsm = await jetstreamManager(nc)
    const deadline = Date.now() + READY_TIMEOUT_MS
    for (;;) {
      try {
        await jsm.streams.add({ name, subjects, num_replicas: NODES })
        return
      } catch (err) {
        if (Date.now() > deadline || !/no suitable peers|insufficient resources/i.test(String(err))) throw err
        await delay(250)
      }
    }
  }

  /** The server_name of the stream's current leader, waiting until it has one. */
  async streamLeader(nc: NatsConnection, stream: string): Promise<string> {
    const jsm = await jetstreamManager(nc)
    const deadline = Date.now() + READY_TIMEOUT_MS
    for (;;) {
      try {
        const leader = (await jsm.streams.info(stream)).cluster?.leader
        if (leader !== undefined && leader !== '') return leader
      } catch (err) {
        if (Date.now() > deadline) throw err
      }
      if (Date.now() > deadline)
        throw new Error(`stream ${stream} has no leader after ${READY_TIMEOUT_MS} ms`)
      await delay(200)
    }
  }

  /** Until the JetStream meta group has a leader: before that, stream creation fails. */
  private async waitForJetStream(): Promise<void> {
    const nc = await this.connect()
    try {
      const deadline = Date.now() + READY_TIMEOUT_MS
      for (;;) {
        try {
          await (await jetstreamManager(nc)).getAccountInfo()
          return
        } catch (err) {
          if (Date.now() > deadline) throw err
          await delay(250)
        }
      }
    } finally {
      await nc.close()
    }
  }

  /** Stop every node and remove the stores. Safe twice. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all(this.nodes.map((n) => n.process.stop('SIGKILL')))
    await rm(this.dir, { recursive: true, force: true })
  }
}
