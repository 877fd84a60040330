/**
 * `npm test`: make sure the real servers are there, then run every test file with node's test runner.
 *
 *   npm test                      all of test/**\/*.test.ts
 *   npm test -- test/unit         only files under test/unit (any number of files or folders)
 *
 * A run of unit tests only starts no server; a run of files named for Redis/NATS/JetStream, or of cluster-*
 * tests (they start their own clusters), skips the single Kafka broker.
 *
 * Servers already listening at the EDGEBRIDGE_TEST_* addresses (or the defaults) are reused; missing
 * ones are started here, on free ports, and stopped when the tests end. Their addresses reach the test
 * files through the same EDGEBRIDGE_TEST_* variables. Exits with the test runner's exit code.
 *
 * The rule every test file lives with: **close what you open.** When a file's tests and hooks are done,
 * every socket, server, client, child process and ref'd timer it opened must be closed within 2 s
 * (test/support/open-handles.ts holds the exit that --test-force-exit asks for until then), or the
 * file fails, printing what was left open. Close clients and daemons in after()/t.after() hooks; a
 * background loop must end on close(), not when the process is torn down. A test may take 5 minutes
 * at most.
 */
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureNats, ensureRedis } from './support/servers.js'

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..')
const testRoot = join(repoRoot, 'test')

/** Test files under `dir`, recursively, sorted (node 20's --test takes no glob). */
function findTestFiles(dir: string): string[] {
  if (statSync(dir).isFile()) return dir.endsWith('.test.ts') ? [dir] : []
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...findTestFiles(path))
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(path)
  }
  return out.sort()
}

interface Started {
  name: string
  url: string
  started: boolean
  stop(): Promise<void>
}

async function main(): Promise<number> {
  const filters = process.argv.slice(2)
  for (const f of filters) {
    if (!existsSync(f)) {
      console.error(`run-tests: no such file or folder: ${f}`)
      return 2
    }
  }
  const files = (filters.length > 0 ? filters : [testRoot]).flatMap((f) => findTestFiles(resolve(f)))
  if (files.length === 0) {
    console.error(`run-tests: no *.test.ts files under ${filters.join(' ') || 'test/'}`)
    return 2
  }

  // Unit tests need no server; files named for Redis/NATS/JetStream need no Kafka (a cold JVM start is
  // the slowest step of a run, so a focused run skips it), nor do the cluster tests (cluster-*), which
  // start clusters of their own. Anything else gets every server.
  const isUnit = (f: string) => relative(testRoot, f).startsWith('unit')
  const needsServers = files.some((f) => !isUnit(f))
  const needsKafka = files.some(
    (f) => !isUnit(f) && !/((redis|nats|jetstream)[^/]*|\/cluster-[^/]*)\.test\.ts$/.test(f),
  )

  const servers: Started[] = []
  const stopAll = async () => {
    for (const s of servers.reverse())
      await s.stop().catch((err) => console.error(`run-tests: stopping ${s.name}:`, err))
  }
  try {
    if (needsServers) {
      const redis = await ensureRedis()
      servers.push({ name: 'redis', ...redis })
      process.env.EDGEBRIDGE_TEST_REDIS_URL = redis.url
      const nats = await ensureNats()
      servers.push({ name: 'nats', ...nats })
      process.env.EDGEBRIDGE_TEST_NATS_URL = nats.url
    }
    const kafkaModule = join(testRoot, 'support', 'kafka-server.ts')
    if (needsKafka && existsSync(kafkaModule)) {
      const { ensureKafka } =
        (await import('./support/kafka-server.js')) as typeof import('./support/kafka-server.js')
      const kafka = await ensureKafka()
      servers.push({
        name: 'kafka',
        url: kafka.brokers.join(','),
        started: kafka.started,
        stop: () => kafka.stop(),
      })
      process.env.EDGEBRIDGE_TEST_KAFKA_BROKERS = kafka.brokers.join(',')
    }
  } catch (err) {
    console.error(`run-tests: ${err instanceof Error ? err.message : String(err)}`)
    await stopAll()
    return 1
  }
  const describe = (s: Started) => `${s.name} ${s.url}`
  const reusedList = servers.filter((s) => !s.started).map(describe)
  const startedList = servers.filter((s) => s.started).map(describe)
  console.log(
    `run-tests: reused ${reusedList.join(', ') || 'none'}; started ${startedList.join(', ') || 'none'}; ` +
      `${files.length} test file(s)`,
  )

  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      // A stuck test fails instead of hanging the run: 5 minutes at most. A file whose tests are done
      // is ended even with open handles (--test-force-exit), but fails if any were still open 2 s
      // later (open-handles.ts), so a leak cannot hang the run nor pass unnoticed.
      '--import',
      './test/support/open-handles.ts',
      `--test-timeout=${5 * 60 * 1000}`,
      '--test-force-exit',
      ...files.map((f) => relative(repoRoot, f)),
    ],
    { cwd: repoRoot, stdio: 'inherit', env: process.env },
  )
  // Ctrl-C reaches the child through the terminal's process group: we only wait for it, then clean up.
  process.on('SIGINT', () => undefined)
  process.on('SIGTERM', () => child.kill('SIGTERM'))
  const code = await new Promise<number>((resolveCode) => {
    child.once('exit', (exitCode) => resolveCode(exitCode ?? 1))
  })
  await stopAll()
  return code
}

process.exitCode = await main()
