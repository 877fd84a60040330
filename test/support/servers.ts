/**
 * Real servers for the tests. `ensureRedis()` / `ensureNats()` reuse the server already listening at the
 * configured address (EDGEBRIDGE_TEST_REDIS_URL / EDGEBRIDGE_TEST_NATS_URL, default 127.0.0.1:6379 and
 * 127.0.0.1:4222) when it answers, else start a private one from the Debian packages `redis-server` and
 * `nats-server` on a free port. test/run-tests.ts calls them once and passes the addresses to the test
 * files in the same variables.
 *
 * `startRedisServer()` / `startNatsServer()` always start a private instance: for tests that stop and start
 * the core (outages). Never stop a shared server from a test.
 */
import { testNatsUrl, testRedisUrl } from './env.js'
import { NATS_DEBIAN_PACKAGE, natsAnswers, startNatsServer } from './nats-server.js'
import { REDIS_DEBIAN_PACKAGE, redisAnswers, startRedisServer } from './redis-server.js'
import { findBinary, type TestServer } from './server-process.js'

export { startNatsServer, startRedisServer }
export type { RestartableTestServer, TestServer } from './server-process.js'

function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url.includes('://') ? url : `tcp://${url}`)
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port === '' ? defaultPort : Number(parsed.port),
  }
}

const reused = (url: string): TestServer => ({ url, started: false, stop: async () => undefined })

function missing(binary: string, pkg: string, url: string): Error {
  return new Error(
    `nothing answers at ${url} and ${binary} is not installed: install the Debian package "${pkg}" ` +
      `(apt-get install ${pkg}) or point the tests at a running server with the EDGEBRIDGE_TEST_* variables`,
  )
}

export async function ensureRedis(): Promise<TestServer> {
  const url = testRedisUrl()
  const { host, port } = hostPort(url, 6379)
  if (await redisAnswers(host, port)) return reused(url)
  if (findBinary('redis-server') === null) throw missing('redis-server', REDIS_DEBIAN_PACKAGE, url)
  return startRedisServer()
}

export async function ensureNats(): Promise<TestServer> {
  const url = testNatsUrl().split(',')[0]!
  const { host, port } = hostPort(url, 4222)
  if (await natsAnswers(host, port)) return reused(testNatsUrl())
  if (findBinary('nats-server') === null) throw missing('nats-server', NATS_DEBIAN_PACKAGE, url)
  const server = await startNatsServer()
  // stop() of the ensured server also removes its store: nothing of a test run is left behind.
  return { url: server.url, started: true, stop: () => server.close() }
}
