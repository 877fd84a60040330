/**
 * Redis backends beyond the conformance suite: trimming, error mapping (credentials, wrong type, codec),
 * a server that is down at start, shutdown aborts. Real redis-server instances only.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { Redis } from 'ioredis'
import type { Backend } from '../../src/backends/backend.js'
import { createRedisBackend } from '../../src/backends/redis/redis-backend.js'
import { createRedisStreamsBackend } from '../../src/backends/redis/redis-streams-backend.js'
import type { EdgebridgeConfig } from '../../src/config/types.js'
import { BackendError, ConfigError, EdgebridgeError } from '../../src/errors.js'
import { silentLogger } from '../../src/observability/logger.js'
import { makeRecords, waitFor } from '../conformance/suite.js'
import { testConfig } from '../support/config.js'
import { testRedisUrl, uniqueName } from '../support/env.js'
import { freePort } from '../support/server-process.js'
import { startRedisServer } from '../support/servers.js'

const closers: (() => Promise<unknown>)[] = []
after(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined)
})

function open(factory: typeof createRedisBackend, config: EdgebridgeConfig): Backend {
  const backend = factory(config, { logger: silentLogger() })
  closers.push(() => backend.close())
  return backend
}

function admin(url = testRedisUrl()): Redis {
  const client = new Redis(url)
  closers.push(async () => client.disconnect())
  return client
}

const rejectsWith = (code: string, retriable: boolean) => (err: unknown) => {
  assert.ok(err instanceof EdgebridgeError, `expected an EdgebridgeError, got ${String(err)}`)
  assert.equal(err.code, code, err.message)
  assert.equal(err.retriable, retriable, `retriable for ${err.message}`)
  return true
}

test('backend redis-streams - trims the stream approximately when streamMaxLen is set', async () => {
  const key = uniqueName('trim')
  const backend = open(
    createRedisStreamsBackend,
    testConfig({ core: { backend: 'redis-streams' }, redis: { streamMaxLen: 10 } }),
  )
  await backend.connect()
  const records = makeRecords(
    key,
    Array.from({ length: 1000 }, (_, i) => Buffer.from(String(i))),
  )
  for (let i = 0; i < records.length; i += 100) await backend.send(records.slice(i, i + 100))
  const redis = admin()
  const len = await redis.xlen(key)
  await redis.del(key)
  // `~` trims whole macro nodes (100 entries by default): well under 1,000, never under 10.
  assert.ok(len >= 10 && len < 1000, `XLEN ${len}`)
})

test('backend redis-streams - does not trim when streamMaxLen is 0', async () => {
  const key = uniqueName('notrim')
  const backend = open(createRedisStreamsBackend, testConfig({ core: { backend: 'redis-streams' } }))
  await backend.connect()
  await backend.send(
    makeRecords(
      key,
      Array.from({ length: 300 }, (_, i) => Buffer.from(String(i))),
    ),
  )
  const redis = admin()
  assert.equal(await redis.xlen(key), 300)
  await redis.del(key)
})

test('backend redis-streams - a key of another type is a non-retriable rejection', async () => {
  const key = uniqueName('wrongtype')
  const redis = admin()
  await redis.set(key, 'not a stream')
  const backend = open(createRedisStreamsBackend, testConfig({ core: { backend: 'redis-streams' } }))
  await backend.connect()
  await assert.rejects(
    backend.send(makeRecords(key, [Buffer.from('x')])),
    rejectsWith('BACKEND_REJECTED', false),
  )
  await redis.del(key)
})

test('backend redis - an envelope codec is refused clearly instead of sent raw', async () => {
  const backend = open(createRedisBackend, testConfig())
  await backend.connect()
  await assert.rejects(
    backend.send(makeRecords(uniqueName('codec'), [Buffer.from('x')], { codec: 'json' })),
    rejectsWith('BACKEND_REJECTED', false),
  )
})

test('backend redis - wrong credentials are a non-retriable BACKEND_AUTH', async () => {
  const server = await startRedisServer({ args: ['--requirepass', 'right-secret'] })
  closers.push(() => server.close())
  const backend = open(
    createRedisBackend,
    testConfig({ redis: { url: server.url, password: 'wrong-secret' } }),
  )
  await backend.connect()
  await assert.rejects(backend.send(makeRecords('c', [Buffer.from('x')])), rejectsWith('BACKEND_AUTH', false))
  assert.equal(backend.isConnected(), false)

  const good = open(createRedisBackend, testConfig({ redis: { url: server.url, password: 'right-secret' } }))
  await good.connect()
  await good.send(makeRecords('c', [Buffer.from('x')]))
})

test('backend redis - connect resolves while the server is down; send fails retriably until it is up', async () => {
  const server = await startRedisServer()
  closers.push(() => server.close())
  await server.stop()
  const backend = open(createRedisBackend, testConfig({ redis: { url: server.url } }))
  await backend.connect()
  assert.equal(backend.isConnected(), false)
  await assert.rejects(
    backend.send(makeRecords('c', [Buffer.from('x')])),
    rejectsWith('BACKEND_UNAVAILABLE', true),
  )
  await server.start()
  await waitFor(
    () => backend.isConnected(),
    15_000,
    () => 'the backend to reconnect',
  )
  await backend.send(makeRecords('c', [Buffer.from('x')]))
})

test('backend redis - an unparsable URL rejects connect with a ConfigError', async () => {
  const backend = open(createRedisBackend, testConfig({ redis: { url: 'not a url' } }))
  await assert.rejects(backend.connect(), ConfigError)
})

test('backend redis - an unreadable TLS file rejects connect with a ConfigError naming the key', async () => {
  const tls = {
    enabled: true,
    caFile: '/nonexistent/ca.pem',
    certFile: '',
    keyFile: '',
    rejectUnauthorized: true,
  }
  const backend = open(createRedisBackend, testConfig({ redis: { tls } }))
  await assert.rejects(
    backend.connect(),
    (err: unknown) => err instanceof ConfigError && /redis\.tls\.caFile/.test(err.message),
  )
})

test('backend redis - an aborted send rejects with ABORTED', async () => {
  const backend = open(createRedisBackend, testConfig())
  await backend.connect()
  const ac = new AbortController()
  ac.abort()
  await assert.rejects(
    backend.send(makeRecords('c', [Buffer.from('x')]), ac.signal),
    rejectsWith('ABORTED', false),
  )
})

test('backend redis - send before connect fails retriably, not with a TypeError', async () => {
  const port = await freePort()
  const backend = open(createRedisBackend, testConfig({ redis: { url: `redis://127.0.0.1:${port}` } }))
  await assert.rejects(backend.send(makeRecords('c', [Buffer.from('x')])), (err: unknown) => {
    assert.ok(err instanceof BackendError)
    assert.equal(err.retriable, true)
    return true
  })
})
