/**
 * Apache Kafka's own Java client, run by the tests as a reference beside the client under test
 * (java/ReferenceProducer.java) and as an independent reader of a topic (java/TopicReader.java).
 *
 * The classes are compiled with javac against the kafka-clients jar of the cached broker jars
 * (kafka-server.ts), into .cache/kafka-java-clients/<hash of the sources>/, once per change of the
 * sources. Needs a JDK (javac), which .ci/run installs.
 */
import { execFile, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { KAFKA_VERSION, resolveKafkaJars } from './kafka-server.js'

const execFileAsync = promisify(execFile)
const here = fileURLToPath(new URL('.', import.meta.url))
const sourceDir = join(here, 'java')
const repoRoot = resolve(here, '..', '..')
const JVM_OPTIONS = ['-Xms64m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1']

/** The classpath with the compiled classes and the Kafka jars, compiling them first when needed. */
export async function javaClientClasspath(): Promise<string> {
  const libs = await resolveKafkaJars()
  const sources = readdirSync(sourceDir)
    .filter((f) => f.endsWith('.java'))
    .sort()
  const hash = createHash('sha256').update(KAFKA_VERSION)
  for (const f of sources) hash.update(f).update(readFileSync(join(sourceDir, f)))
  const out = join(repoRoot, '.cache', 'kafka-java-clients', hash.digest('hex').slice(0, 16))
  if (!existsSync(join(out, '.complete'))) {
    // Compile into a private directory and rename, so parallel test files never see half a build.
    const staging = `${out}.${process.pid}.${randomBytes(4).toString('hex')}`
    mkdirSync(staging, { recursive: true })
    try {
      await execFileAsync('javac', [
        '-cp',
        `${libs}/*`,
        '-d',
        staging,
        ...sources.map((f) => join(sourceDir, f)),
      ])
      writeFileSync(join(staging, '.complete'), `${KAFKA_VERSION}\n`)
      renameSync(staging, out)
    } catch (err) {
      rmSync(staging, { recursive: true, force: true })
      if (!existsSync(join(out, '.complete'))) {
        const e = err as { message: string; stderr?: string }
        throw new Error(
          `compiling the Java Kafka clients (test/support/java) failed: ${e.message}\n${e.stderr ?? ''}`,
        )
      }
    }
  }
  return `${out}:${libs}/*`
}

export interface ReferenceProducerRun {
  /** Stops publishing; resolves once the producer flushed and exited: per device, the acknowledged seqs. */
  stop(): Promise<Map<number, number[]>>
  /** The producer's own summary line (sent, acked, failed), once done. */
  summary(): string
}

/** Starts ReferenceProducer (idempotent, acks=all) with the fleet's load, until stop(). */
export async function runReferenceProducer(options: {
  brokers: string[]
  topic: string
  devices: number
  ratePerSecond: number
  ackFile: string
}): Promise<ReferenceProducerRun> {
  const classpath = await javaClientClasspath()
  const child = spawn(
    'java',
    [
      ...JVM_OPTIONS,
      '-cp',
      classpath,
      'ReferenceProducer',
      options.brokers.join(','),
      options.topic,
      String(options.devices),
      String(options.ratePerSecond),
      options.ackFile,
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  )
  const killOnExit = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', killOnExit)
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-8000)
  })
  const done = new Promise<Map<number, number[]>>((res, rej) => {
    child.once('exit', (code) => {
      process.removeListener('exit', killOnExit)
      if (code !== 0) {
        rej(new Error(`reference producer exited with ${code}:\n${stderr}`))
        return
      }
      readFile(options.ackFile, 'utf8').then((text) => res(parseAcks(text)), rej)
    })
  })
  return {
    stop: () => {
      child.stdin.end()
      return done
    },
    summary: () =>
      stderr
        .split('\n')
        .filter((l) => l.startsWith('reference producer:'))
        .join(' '),
  }
}

function parseAcks(text: string): Map<number, number[]> {
  const out = new Map<number, number[]>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    const [d, s] = line.split(' ').map(Number) as [number, number]
    let list = out.get(d)
    if (list === undefined) out.set(d, (list = []))
    list.push(s)
  }
  return out
}

/** One record read back by TopicReader. */
export interface TopicRecord {
  partition: number
  offset: number
  value: string
}

/**
 * Reads `topic` with TopicReader, each partition from `from` (partition -> offset; absent: from its
 * beginning) up to its high-water mark at the time of the call.
 */
export async function readTopic(
  brokers: string[],
  topic: string,
  from: ReadonlyMap<number, number> = new Map(),
): Promise<TopicRecord[]> {
  const classpath = await javaClientClasspath()
  const offsets = [...from].map(([p, o]) => `${p}:${o}`).join(',')
  const { stdout } = await execFileAsync(
    'java',
    [...JVM_OPTIONS, '-cp', classpath, 'TopicReader', brokers.join(','), topic, offsets],
    { maxBuffer: 512 * 1024 * 1024 },
  )
  const out: TopicRecord[] = []
  for (const line of stdout.split('\n')) {
    if (line === '') continue
    const first = line.indexOf('\t')
    const second = line.indexOf('\t', first + 1)
    out.push({
      partition: Number(line.slice(0, first)),
      offset: Number(line.slice(first + 1, second)),
      value: line.slice(second + 1),
    })
  }
  return out
}
