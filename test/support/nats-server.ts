/**
 * A private nats-server with JetStream (Debian package `nats-server`) for tests: on a free port, its store
 * in a temporary directory that outlives stop()/start(), so JetStream streams survive a restart.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findBinary, freePort, probe, ServerProcess, type RestartableTestServer } from './server-process.js'

export const NATS_DEBIAN_PACKAGE = 'nats-server'

/** True when something at host:port greets like a NATS server (it sends INFO first). */
export async function natsAnswers(host: string, port: number): Promise<boolean> {
  const answer = await probe(host, port)
  return answer !== null && answer.startsWith('INFO ')
}

/** `args`: extra nats-server flags, e.g. `['--user', 'u', '--pass', 'p']` or `['--auth', 'token']`. */
export async function startNatsServer(options: { args?: string[] } = {}): Promise<RestartableTestServer> {
  const binary = findBinary('nats-server')
  if (binary === null) {
    throw new Error(`nats-server not found: install the Debian package "${NATS_DEBIAN_PACKAGE}"`)
  }
  const host = '127.0.0.1'
  const port = await freePort()
  const storeDir = await mkdtemp(join(tmpdir(), 'edgebridge-nats-'))
  const proc = new ServerProcess({
    name: 'nats-server',
    binary,
    args: ['-js', '-a', host, '-p', String(port), '-sd', storeDir, ...(options.args ?? [])],
    host,
    port,
    isReady: () => natsAnswers(host, port),
  })
  try {
    await proc.start()
  } catch (err) {
    await rm(storeDir, { recursive: true, force: true })
    throw err
  }
  let closed = false
  return {
    url: `nats://${host}:${port}`,
    started: true,
    stop: () => proc.stop(),
    start: () => proc.start(),
    close: async () => {
      if (closed) return
      closed = true
      await proc.stop()
      await rm(storeDir, { recursive: true, force: true })
    },
  }
}
