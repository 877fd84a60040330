/**
 * An authenticated connection to Redis: a private redis-server whose default user is off (anonymous
 * clients get NOAUTH) and whose only user is an ACL user `edge`. The daemon, configured through the
 * real loader with the password in a file, relays a device's message to Redis; a wrong password is a
 * non-retriable BACKEND_AUTH and the gateway stays up, spooling.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Redis, type RedisOptions } from 'ioredis'
import { createRedisBackend } from '../../src/backends/redis/redis-backend.js'
import { silentLogger } from '../../src/observability/logger.js'
import {
  configFromEnv,
  oneRecord,
  refusalCodes,
  rejectsWithAuth,
  secretDir,
  startLoggedDaemon,
  type SecretDir,
} from '../support/auth-daemon.js'
import { uniqueName } from '../support/env.js'
import { connectDevice } from '../support/ingress.js'
import { startRedisServer, type RestartableTestServer } from '../support/servers.js'
import { settlesWithin, waitUntil } from '../support/wait-until.js'

const USER = 'edge'
const PASSWORD = 's3cret-redis'

describe('core auth - redis with an ACL user', () => {
  let server: RestartableTestServer
  let secrets: SecretDir

  before(async () => {
    server = await startRedisServer({
      args: ['--user', 'default', 'off', '--user', USER, 'on', `>${PASSWORD}`, '~*', '&*', '+@all'],
    })
    secrets = await secretDir()
  })
  after(async () => {
    await server.close()
    await secrets.remove()
  })

  it('core auth - redis refuses a client without credentials or with a wrong password (the test server is really locked)', async () => {
    const client = (options: RedisOptions) => {
      const c = new Redis(server.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        // The ready check (INFO) would be refused too and close the connection before our command.
        enableReadyCheck: false,
        ...options,
      })
      c.on('error', () => undefined)
      return c
    }
    // The server's own answers, not any closed connection: NOAUTH for no credentials...
    const anonymous = client({})
    try {
      await anonymous.connect()
      await assert.rejects(anonymous.publish('x', 'y'), (err: Error) => err.message.startsWith('NOAUTH'))
    } finally {
      anonymous.disconnect()
    }
    // ...WRONGPASS for a wrong password, and the right one works on the same server.
    const wrong = client({ username: USER, password: 'not-the-password' })
    try {
      // ioredis sends AUTH as it connects and reports the server's reply as an 'error' event.
      const answer = new Promise<Error>((r) => wrong.once('error', r))
      await wrong.connect().catch(() => undefined)
      const err = await settlesWithin(answer, 10_000, "the server's answer to a wrong password")
      assert.match(err.message, /^WRONGPASS/)
    } finally {
      wrong.disconnect()
    }
    const right = client({ username: USER, password: PASSWORD })
    try {
      await right.connect()
      assert.equal(await right.publish('x', 'y'), 0)
    } finally {
      right.disconnect()
    }
  })

  it('core auth - redis: the daemon relays a device message as user edge, password read from redis.passwordFile', async () => {
    const passwordFile = await secrets.write('redis-password', `${PASSWORD}\n`)
    const config = configFromEnv(
      {
        EDGEBRIDGE_REDIS_URL: server.url,
        EDGEBRIDGE_REDIS_USERNAME: USER,
        EDGEBRIDGE_REDIS_PASSWORD_FILE: passwordFile,
      },
      { core: { backend: 'redis' } },
    )
    assert.equal(config.redis.password, PASSWORD, 'the loader read the file')
    const channel = uniqueName('auth')
    const sub = new Redis(server.url, { username: USER, password: PASSWORD })
    const got: string[] = []
    sub.on('message', (_channel: string, message: string) => got.push(message))
    await sub.subscribe(channel)
    const { daemon, url } = await startLoggedDaemon(config)
    try {
      const device = await connectDevice(url, 'auth-redis')
      await device.publishAsync(channel, 'hello over ACL', { qos: 1 })
      await waitUntil(() => got.length === 1, 10_000, 'the message in Redis')
      assert.equal(got[0], 'hello over ACL')
      await device.endAsync()
    } finally {
      await daemon.stop()
      sub.disconnect()
    }
  })

  it('core auth - redis: a wrong password is a non-retriable BACKEND_AUTH', async () => {
    const backend = createRedisBackend(
      configFromEnv({
        EDGEBRIDGE_REDIS_URL: server.url,
        EDGEBRIDGE_REDIS_USERNAME: USER,
        EDGEBRIDGE_REDIS_PASSWORD: 'wrong',
      }),
      { logger: silentLogger() },
    )
    try {
      await backend.connect()
      await rejectsWithAuth(backend.send(oneRecord(uniqueName('auth'))))
    } finally {
      await backend.close()
    }
  })

  it('core auth - redis: with a wrong password the daemon stays up, keeps acknowledging into the spool and logs BACKEND_AUTH', async () => {
    const passwordFile = await secrets.write('redis-wrong', 'not-the-password\n')
    const config = configFromEnv(
      {
        EDGEBRIDGE_REDIS_URL: server.url,
        EDGEBRIDGE_REDIS_USERNAME: USER,
        EDGEBRIDGE_REDIS_PASSWORD_FILE: passwordFile,
      },
      { core: { backend: 'redis' }, forwarder: { drainTimeoutMs: 100 } },
    )
    const { daemon, url, log } = await startLoggedDaemon(config)
    try {
      const device = await connectDevice(url, 'auth-redis-wrong')
      await device.publishAsync('auth/wrong', 'kept', { qos: 1 })
      await waitUntil(() => refusalCodes(log).length > 0, 10_000, 'the forwarder to log the refusal')
      assert.deepEqual(refusalCodes(log)[0], { code: 'BACKEND_AUTH', retriable: false })
      assert.ok(!JSON.stringify(log.lines).includes('not-the-password'), 'the password is not logged')
      // Still serving: another publish is acknowledged and waits in the spool.
      await device.publishAsync('auth/wrong', 'kept too', { qos: 1 })
      assert.equal(daemon.spool.stats().depthRecords, 2)
      await device.endAsync()
    } finally {
      await daemon.stop()
    }
  })
})
