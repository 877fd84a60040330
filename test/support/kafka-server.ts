/**
 * A real Apache Kafka broker for the tests: KRaft mode, one node acting as broker and controller,
 * started from the Apache Kafka jars that Maven resolves from Maven Central (test/kafka/pom.xml).
 * Needs only Java 17+ and Maven; jars are cached in .cache/kafka/<version>/libs (and in ~/.m2).
 *
 * - `ensureKafka()` uses a broker already listening on EDGEBRIDGE_TEST_KAFKA_BROKERS (default
 *   127.0.0.1:9092) when one answers a metadata request, else starts a private one on free ports.
 * - `startKafkaServer()` always starts a private broker, which can be stopped (gracefully or with
 *   SIGKILL, to play a crash) and started again on the same ports and log dirs: for outage tests.
 *
 * The JVM is a child of the calling process and is killed when that process exits. A Ctrl-C reaches
 * it through the shared process group.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Kafka, logLevel } from 'kafkajs'
import { testKafkaBrokers } from './env.js'

/** Must match kafka.version in test/kafka/pom.xml. */
export const KAFKA_VERSION = '4.1.1'
const STARTUP_TIMEOUT_MS = 90_000 // 90 s: a cold JVM on a slow CI machine
const PROBE_TIMEOUT_MS = 1_500 // 1.5 s: an existing local broker answers in milliseconds
const STOP_TIMEOUT_MS = 30_000 // 30 s: controlled shutdown of a single node, then SIGKILL

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..')
const execFileAsync = promisify(execFile)

export interface KafkaHandle {
  brokers: string[]
  /** True when this call started the broker (and stop() stops it); false for one already running. */
  started: boolean
  /** Stops a broker this process started and removes its files; a no-op for an external broker. */
  stop(): Promise<void>
}

export interface KafkaServer {
  brokers: string[]
  /** With the `sasl` option: the SASL_PLAINTEXT listener's address (`brokers` stays PLAINTEXT). */
  saslBrokers: string[]
  /** Directory with server.properties, log4j2.properties, broker.log and the log dirs. */
  dir: string
  /** Starts the broker again on the same ports and data after stop(). */
  start(): Promise<void>
  /** Stops the broker and keeps its data; `kill: true` sends SIGKILL (a crash) instead of SIGTERM. */
  stop(options?: { kill?: boolean }): Promise<void>
  /** Stops the broker and removes its directory; safe to call twice. */
  close(): Promise<void>
}

/** True when a Kafka broker at `brokers` answers a metadata request within `timeoutMs`. */
export async function kafkaAnswers(brokers: string[], timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  const kafka = new Kafka({
    brokers,
    clientId: 'edgebridge-test-probe',
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  })
  const admin = kafka.admin({ retry: { retries: 0 } })
  try {
    await admin.connect()
    await admin.describeCluster()
    return true
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

export async function ensureKafka(): Promise<KafkaHandle> {
  const configured = testKafkaBrokers()
  if (await kafkaAnswers(configured)) {
    return { brokers: configured, started: false, stop: async () => undefined }
  }
  const server = await startKafkaServer()
  return { brokers: server.brokers, started: true, stop: () => server.close() }
}

/** The directory of broker jars, resolved by Maven into the cache when missing. */
export async function resolveKafkaJars(): Promise<string> {
  const libs = join(repoRoot, '.cache', 'kafka', KAFKA_VERSION, 'libs')
  if (existsSync(join(libs, '.complete'))) return libs
  // Resolve into a private directory and rename, so two test processes never see half a cache.
  const staging = `${libs}.${process.pid}.${randomBytes(4).toString('hex')}`
  mkdirSync(staging, { recursive: true })
  try {
    await execFileAsync(
      'mvn',
      [
        '-q',
        '-B',
        '-f',
        join(repoRoot, 'test', 'kafka', 'pom.xml'),
        'dependency:copy-dependencies',
        `-DoutputDirectory=${staging}`,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    )
  } catch (err) {
    rmSync(staging, { recursive: true, force: true })
    const e = err as { stdout?: string; stderr?: string; message: string }
    throw new Error(
      `resolving Apache Kafka ${KAFKA_VERSION} jars with Maven (test/kafka/pom.xml) failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`,
    )
  }
  writeFileSync(join(staging, '.complete'), `${KAFKA_VERSION}\n`)
  // A cache left incomplete by an interrupted older run is replaced; a complete one from a process
  // that finished first is used as it is.
  if (existsSync(libs) && !existsSync(join(libs, '.complete'))) rmSync(libs, { recursive: true, force: true })
  try {
    renameSync(staging, libs)
  } catch {
    rmSync(staging, { recursive: true, force: true })
    if (!existsSync(join(libs, '.complete'))) throw new Error(`Kafka jar cache ${libs} is incomplete`)
  }
  return libs
}

export interface KafkaSaslOptions {
  /** The SCRAM mechanism the extra listener offers. */
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512'
  /** SCRAM credentials written into the cluster metadata when the storage is formatted. */
  users: Array<{ name: string; password: string }>
}

export interface KafkaServerOptions {
  /**
   * Adds a SASL_PLAINTEXT listener (address in `saslBrokers`) that accepts only these SCRAM users.
   * The PLAINTEXT listener (`brokers`) stays, for the readiness probe and for test consumers.
   */
  sasl?: KafkaSaslOptions
}

export async function startKafkaServer(options: KafkaServerOptions = {}): Promise<KafkaServer> {
  const libs = await resolveKafkaJars()
  const dir = await mkdtemp(join(tmpdir(), 'edgebridge-kafka-'))
  const [port, controllerPort, saslPort] = await freePorts(options.sasl ? 3 : 2)
  const brokers = [`127.0.0.1:${port}`]
  const saslBrokers = saslPort === undefined ? [] : [`127.0.0.1:${saslPort}`]
  writeFileSync(
    join(dir, 'server.properties'),
    serverProperties(
      dir,
      port,
      controllerPort,
      saslPort === undefined ? undefined : { port: saslPort, ...options.sasl! },
    ),
  )
  writeFileSync(join(dir, 'log4j2.properties'), LOG4J2_PROPERTIES)
  const classpath = `${libs}/*`
  await execFileAsync(
    'java',
    [
      '-cp',
      classpath,
      `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      clusterId(),
      '-c',
      join(dir, 'server.properties'),
      // KRaft keeps SCRAM credentials in the metadata log: they are added when the storage is formatted.
      ...(options.sasl?.users ?? []).flatMap((u) => [
        '--add-scram',
        `${options.sasl!.mechanism}=[name=${u.name},password=${u.password}]`,
      ]),
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  ).catch((err: { message: string; stdout?: string }) => {
    throw new Error(`formatting Kafka storage failed: ${err.message}\n${err.stdout ?? ''}`)
  })

  let child: ChildProcess | undefined
  let closed = false
  const killOnExit = (): void => {
    child?.kill('SIGKILL')
  }
  process.once('exit', killOnExit)

  const start = async (): Promise<void> => {
    if (closed) throw new Error('Kafka test server is closed')
    if (child !== undefined) return
    const logPath = join(dir, 'broker.log')
    const logFd = openSync(logPath, 'a')
    const proc = spawn(
      'java',
      [
        '-Xms128m',
        '-Xmx512m',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        join(dir, 'server.properties'),
      ],
      { stdio: ['ignore', logFd, logFd] },
    )
    closeSync(logFd)
    child = proc
    let exited = false
    proc.once('exit', () => {
      exited = true
      if (child === proc) child = undefined
    })
    try {
      await waitUntilReady(brokers, () => exited, logPath)
    } catch (err) {
      proc.kill('SIGKILL')
      throw err
    }
  }

  const stop = async (options: { kill?: boolean } = {}): Promise<void> => {
    await stopBrokerJvm(child, options.kill === true)
    child = undefined
  }

  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await stop()
    process.removeListener('exit', killOnExit)
    await rm(dir, { recursive: true, force: true })
  }

  try {
    await start()
  } catch (err) {
    closed = true
    process.removeListener('exit', killOnExit)
    throw err
  }
  return { brokers, saslBrokers, dir, start, stop, close }
}

/**
 * Stops a broker's JVM and waits for it to exit: SIGTERM (a controlled shutdown, SIGKILL after
 * STOP_TIMEOUT_MS) or, with `kill`, SIGKILL at once (a crash). Nothing to do when it already exited.
 */
export async function stopBrokerJvm(proc: ChildProcess | undefined, kill: boolean): Promise<void> {
  if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise<void>((res) => proc.once('exit', () => res()))
  proc.kill(kill ? 'SIGKILL' : 'SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS)
  await exited
  clearTimeout(timer)
}

export async function waitUntilReady(
  brokers: string[],
  hasExited: () => boolean,
  logPath: string,
  timeoutMs = STARTUP_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (hasExited()) throw new Error(`Kafka broker exited during start-up:\n${logTail(logPath)}`)
    if (await kafkaAnswers(brokers, 1_000)) return
    if (Date.now() > deadline) {
      throw new Error(`Kafka broker did not answer within ${timeoutMs} ms:\n${logTail(logPath)}`)
    }
    await new Promise((res) => setTimeout(res, 250))
  }
}

export function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-40).join('\n')
  } catch {
    return '(no broker log)'
  }
}

/** A KRaft cluster id: 16 random bytes, base64url; Kafka's own Uuid never starts with '-'. */
export function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

export async function freePorts(count: number): Promise<number[]> {
  // Hold all listeners open until every port is known, so the same port is not handed out twice.
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((res, rej) => {
          const s = createServer()
          s.once('error', rej)
          s.listen(0, '127.0.0.1', () => res(s))
        }),
    ),
  )
  const ports = servers.map((s) => {
    const address = s.address()
    if (address === null || typeof address === 'string') throw new Error('no TCP address')
    return address.port
  })
  await Promise.all(servers.map((s) => new Promise((res) => s.close(res))))
  return ports
}

/**
 * With `sasl`, a third listener named SASL (SASL_PLAINTEXT) whose JAAS entry is the SCRAM login module:
 * the broker checks clients against the credentials stored at format time. Inter-broker and controller
 * traffic stay PLAINTEXT.
 */
function serverProperties(
  dir: string,
  port: number,
  controllerPort: number,
  sasl?: KafkaSaslOptions & { port: number },
): string {
  const saslListener = sasl === undefined ? '' : `,SASL://127.0.0.1:${sasl.port}`
  const saslSection =
    sasl === undefined
      ? ''
      : `sasl.enabled.mechanisms=${sasl.mechanism}
listener.name.sasl.sasl.enabled.mechanisms=${sasl.mechanism}
listener.name.sasl.${sasl.mechanism.toLowerCase()}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
`
  return `# Generated by test/support/kafka-server.ts: one KRaft node, broker and controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}${saslListener}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}${saslListener}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${sasl === undefined ? '' : ',SASL:SASL_PLAINTEXT'}
inter.broker.listener.name=PLAINTEXT
${saslSection}log.dirs=${join(dir, 'data')}
# Tests create their topics; a missing topic must stay missing (the backend's createTopics decides).
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
${SMALL_BROKER_PROPERTIES}`
}

/** Resource settings every test broker shares: few threads, small segments, short retention. */
export const SMALL_BROKER_PROPERTIES = `# Small segments, but above the largest batch (1 MiB payloads plus headers).
log.segment.bytes=8388608
log.retention.hours=1
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
`

export const LOG4J2_PROPERTIES = `status = warn
appender.file.type = Console
appender.file.name = STDOUT
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = org.apache.kafka
logger.kafka.level = warn
`
