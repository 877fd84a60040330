/**
 * The command line as an operator meets it: a real child process, its exit code and what it prints.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import net from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { edgebridgeCli } from '../support/edgebridge-cli.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const edgebridge = edgebridgeCli

describe('cli - edgebridge command line', () => {
  it('cli - --version prints the package version and --help lists the commands', async () => {
    const version = await edgebridge(['--version'])
    assert.equal(version.code, 0)
    assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+/)
    const help = await edgebridge(['--help'])
    assert.equal(help.code, 0)
    for (const command of ['run', 'check-config', 'passwd', 'bench', 'audit'])
      assert.match(help.stdout, new RegExp(`\\b${command}\\b`))
  })

  it('cli - an unknown command exits 64 with the help', async () => {
    const out = await edgebridge(['frobnicate'])
    assert.equal(out.code, 64)
    assert.match(out.stderr, /unknown command "frobnicate"/)
  })

  it('cli - bench refuses a spool it does not know: exit 64 naming the choices', async () => {
    const out = await edgebridge(['bench', 'latency', '--spool', 'always,tape'])
    assert.equal(out.code, 64)
    assert.match(out.stderr, /--spool takes always, interval, never, memory, got "tape"/)
  })

  it('cli - bench refuses an empty spool list: exit 64, not a run that measures no edgebridge', async () => {
    const out = await edgebridge(['bench', 'throughput', '--spool', ' , '])
    assert.equal(out.code, 64)
    assert.match(out.stderr, /--spool takes at least one of always, interval, never, memory/)
  })

  it('cli - a bad config value exits 78 with one line naming the key, the value and what was expected', async () => {
    const out = await edgebridge(['run'], { EDGEBRIDGE_MQTT_PORT: 'abc' })
    assert.equal(out.code, 78)
    const lines = out.stderr.trim().split('\n')
    assert.equal(lines.length, 1, out.stderr)
    assert.match(lines[0]!, /mqtt\.port/)
    assert.match(lines[0]!, /abc/)
    assert.match(lines[0]!, /port/)
  })

  it('cli - an unknown backend exits 78 naming core.backend', async () => {
    const out = await edgebridge(['check-config'], { EDGEBRIDGE_BACKEND: 'rabbitmq' })
    assert.equal(out.code, 78)
    assert.match(out.stderr, /core\.backend/)
    assert.match(out.stderr, /rabbitmq/)
  })

  /** `run` refuses to start: exit 78 and one line on stderr holding every fragment. */
  async function refusesToStart(env: Record<string, string>, fragments: RegExp[]): Promise<void> {
    const out = await edgebridge(['run', '--mqtt.port=0', '--spool.kind=memory'], env)
    assert.equal(out.code, 78, out.stderr)
    const lines = out.stderr.trim().split('\n')
    assert.equal(lines.length, 1, out.stderr)
    for (const fragment of fragments) assert.match(lines[0]!, fragment)
  }

  it('cli - a route codec the backend cannot carry stops start-up, naming the route and the backend', async () => {
    await refusesToStart(
      {
        EDGEBRIDGE_BACKEND: 'redis',
        EDGEBRIDGE_ROUTES: JSON.stringify([{ match: '#', target: '{topic}', codec: 'json' }]),
      },
      [/routes\[0\]\.codec: "json"/, /core\.backend is redis\b/],
    )
  })

  it('cli - an invalid Kafka topic as a downlink source stops start-up', async () => {
    await refusesToStart(
      {
        EDGEBRIDGE_BACKEND: 'kafka',
        EDGEBRIDGE_DOWNLINK_ENABLED: 'true',
        EDGEBRIDGE_DOWNLINK_RULES: JSON.stringify([{ source: '..' }]),
      },
      [/downlink\.rules\[0\]\.source: "\.\."/, /Kafka topic name/, /core\.backend is kafka/],
    )
  })

  it('cli - a control character in a NATS subject stops start-up', async () => {
    await refusesToStart(
      {
        EDGEBRIDGE_BACKEND: 'nats',
        EDGEBRIDGE_DOWNLINK_ENABLED: 'true',
        EDGEBRIDGE_DOWNLINK_RULES: JSON.stringify([{ source: 'commands.\u0007.>' }]),
      },
      [/downlink\.rules\[0\]\.source/, /control characters/, /core\.backend is nats/],
    )
    await refusesToStart({ EDGEBRIDGE_BACKEND: 'nats', EDGEBRIDGE_NATS_SUBJECT_PREFIX: 'edge\u0001site' }, [
      /nats\.subjectPrefix/,
      /control characters/,
    ])
  })

  it('cli - check-config prints the effective configuration with secrets masked', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgebridge-cli-'))
    const file = join(dir, 'edgebridge.json')
    await writeFile(
      file,
      JSON.stringify({
        core: { backend: 'kafka' },
        kafka: { sasl: { mechanism: 'plain', username: 'gw', password: 'hunter2' } },
      }),
    )
    const out = await edgebridge(['check-config', '--config', file], {
      MSIGHT_NATS_SERVERS: "['nats://core-a:4222', 'nats://core-b:4222']",
    })
    await rm(dir, { recursive: true, force: true })
    assert.equal(out.code, 0, out.stderr)
    const printed = JSON.parse(out.stdout)
    assert.equal(printed.core.backend, 'kafka')
    assert.deepEqual(printed.nats.servers, ['nats://core-a:4222', 'nats://core-b:4222'])
    assert.equal(printed.kafka.sasl.username, 'gw')
    assert.notEqual(printed.kafka.sasl.password, 'hunter2')
    assert.doesNotMatch(out.stdout, /hunter2/)
  })

  it('cli - a taken MQTT port exits non-zero with one clear line naming the address', async () => {
    const { port, out } = await runWithTakenPort((p) => ({ EDGEBRIDGE_MQTT_PORT: String(p) }))
    assert.equal(out.code, 1)
    assert.equal(out.stderr.trim().split('\n').length, 1, out.stderr)
    assert.match(out.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`))
  })

  it('cli - an HTTP listener off loopback with no protection exits 78 with one line', async () => {
    const out = await edgebridge(['run'], { EDGEBRIDGE_HTTP_HOST: '0.0.0.0' })
    assert.equal(out.code, 78)
    const lines = out.stderr.trim().split('\n')
    assert.equal(lines.length, 1, out.stderr)
    assert.match(lines[0]!, /http\.host: "0\.0\.0\.0" is not valid: must be a loopback address unless/)
  })

  it('cli - a taken HTTP port exits 1 with one line naming the address and the key to change', async () => {
    const { port, out } = await runWithTakenPort((p) => ({
      EDGEBRIDGE_MQTT_PORT: '0',
      EDGEBRIDGE_HTTP_PORT: String(p),
    }))
    assert.equal(out.code, 1)
    assert.equal(out.stderr.trim().split('\n').length, 1, out.stderr)
    assert.match(
      out.stderr,
      new RegExp(`HTTP listener: 127\\.0\\.0\\.1:${port} is already in use .*http\\.port`),
    )
  })

  it('cli - SIGTERM stops the daemon cleanly with exit code 0', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'edgebridge-cli-'))
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'run'], {
      cwd: root,
      env: {
        ...process.env,
        EDGEBRIDGE_MQTT_PORT: '0',
        EDGEBRIDGE_HTTP_PORT: '0',
        EDGEBRIDGE_DATA_DIR: dataDir,
        EDGEBRIDGE_LOG_LEVEL: 'info',
        EDGEBRIDGE_REDIS_URL: process.env.EDGEBRIDGE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`daemon not ready: ${stdout}`)), 30_000)
      child.stdout.on('data', () => {
        if (stdout.includes('edgebridge ready')) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    child.kill('SIGTERM')
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)))
    await rm(dataDir, { recursive: true, force: true })
    assert.equal(code, 0)
    assert.match(stdout, /"msg":"stopped"/)
  })
})

/** `edgebridge run` with a port another process holds (the environment `env` puts it in). */
async function runWithTakenPort(
  env: (port: number) => Record<string, string>,
): Promise<{ port: number; out: Awaited<ReturnType<typeof edgebridge>> }> {
  const blocker = net.createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  const port = (blocker.address() as net.AddressInfo).port
  const dataDir = await mkdtemp(join(tmpdir(), 'edgebridge-cli-'))
  try {
    const out = await edgebridge(['run'], {
      EDGEBRIDGE_DATA_DIR: dataDir,
      EDGEBRIDGE_REDIS_URL: process.env.EDGEBRIDGE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      ...env(port),
    })
    return { port, out }
  } finally {
    blocker.close()
    await rm(dataDir, { recursive: true, force: true })
  }
}
