/**
 * A private redis-server (Debian package `redis-server`) for tests: on a free port, nothing persisted.
 */
import { findBinary, freePort, probe, ServerProcess, type RestartableTestServer } from './server-process.js'

export const REDIS_DEBIAN_PACKAGE = 'redis-server'

/** True when something at host:port answers PING like Redis does (also -NOAUTH when a password is set). */
export async function redisAnswers(host: string, port: number): Promise<boolean> {
  const answer = await probe(host, port, 'PING\r\n')
  return (
    answer !== null &&
    (answer.startsWith('+PONG') || answer.startsWith('-NOAUTH') || answer.startsWith('-ERR'))
  )
}

/** `args`: extra redis-server flags, e.g. `['--requirepass', 'secret']`. */
export async function startRedisServer(options: { args?: string[] } = {}): Promise<RestartableTestServer> {
  const binary = findBinary('redis-server')
  if (binary === null) {
    throw new Error(`redis-server not found: install the Debian package "${REDIS_DEBIAN_PACKAGE}"`)
  }
  const host = '127.0.0.1'
  const port = await freePort()
  const proc = new ServerProcess({
    name: 'redis-server',
    binary,
    args: [
      '--port',
      String(port),
      '--bind',
      host,
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'yes',
      ...(options.args ?? []),
    ],
    host,
    port,
    isReady: () => redisAnswers(host, port),
  })
  await proc.start()
  return {
    url: `redis://${host}:${port}`,
    started: true,
    stop: () => proc.stop(),
    start: () => proc.start(),
    close: () => proc.stop(),
  }
}
