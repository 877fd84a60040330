/**
 * nats-server's own MQTT support as a reference (the `nats-server` binary on PATH): a private server on
 * free ports with an `mqtt` block. nats-server requires JetStream and a `server_name` for MQTT, and
 * keeps QoS 1 state in JetStream, so its PUBACK, like edgebridge's, follows a store write. MQTT topic
 * `bench/<n>` arrives on subject `bench.<n>` (nats-server's own topic to subject mapping).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { sleep } from './clock.js'
import { reservePort } from './private-redis.js'

/** True for the backends whose scenarios add nats-server's MQTT as a reference, when it is installed. */
export function natsMqttReferenceAvailable(backend: string, binary = 'nats-server'): boolean {
  if (backend !== 'nats' && backend !== 'jetstream') return false
  return (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, binary)))
}

/** The subject a bench device's topic arrives on at nats-server. */
export const NATS_MQTT_SUBJECT = 'bench.>'

export interface NatsMqttServer {
  /** NATS client URL of the private server (where the consumer subscribes). */
  natsUrl: string
  /** MQTT port of the private server (where the bench devices connect). */
  mqttPort: number
  /** Safe to call twice. */
  stop(): Promise<void>
}

const START_TIMEOUT_MS = 20_000 // 20 s: JetStream initialises its store on first start

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port })
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

export async function startNatsMqttServer(binary = 'nats-server'): Promise<NatsMqttServer> {
  const port = await reservePort()
  const mqttPort = await reservePort()
  const dir = mkdtempSync(join(tmpdir(), 'edgebridge-bench-nats-mqtt-'))
  const conf = join(dir, 'nats.conf')
  writeFileSync(
    conf,
    [
      `server_name: "edgebridge-bench-reference"`,
      `listen: "127.0.0.1:${port}"`,
      `jetstream { store_dir: "${join(dir, 'js')}" }`,
      `mqtt { listen: "127.0.0.1:${mqttPort}" }`,
      '',
    ].join('\n'),
  )
  const child: ChildProcess = spawn(binary, ['-c', conf], { stdio: 'ignore' })
  const kill = (): void => {
    child.kill('SIGKILL')
  }
  process.once('exit', kill)
  let spawnError: Error | undefined
  child.once('error', (err) => (spawnError = err))
  const stop = async (): Promise<void> => {
    process.removeListener('exit', kill)
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((res) => child.once('exit', res))
      child.kill('SIGTERM')
      await gone
    }
    rmSync(dir, { recursive: true, force: true })
  }
  const deadline = Date.now() + START_TIMEOUT_MS
  while (!((await answers(port)) && (await answers(mqttPort)))) {
    if (spawnError !== undefined || child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`nats-server with MQTT did not start: ${spawnError?.message ?? 'no answer'}`)
    }
    await sleep(50)
  }
  return { natsUrl: `nats://127.0.0.1:${port}`, mqttPort, stop }
}
