/**
 * Authenticated connections to NATS, each against a private nats-server that refuses anonymous
 * clients: user + password (password from nats.passwordFile), an NKey (seed from nats.nkeySeedFile,
 * the key pair made here with nkeys) and a token (from nats.tokenFile). The daemon, configured through
 * the real loader, relays a device's message to a subscriber; a wrong password is a non-retriable
 * BACKEND_AUTH and the gateway stays up, spooling.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect, nkeys, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node'
import { createNatsBackend } from '../../src/backends/nats/nats-backend.js'
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
import { startNatsServer, type RestartableTestServer } from '../support/servers.js'
import { waitUntil } from '../support/wait-until.js'

const USER = 'edge'
const PASSWORD = 's3cret-nats'
const TOKEN = 's3cret-token'

/** A subscriber on `subject` that authenticates with `auth`. */
async function subscriber(
  url: string,
  subject: string,
  auth: Partial<ConnectionOptions>,
): Promise<{ got: string[]; nc: NatsConnection }> {
  const nc = await connect({ servers: url, ...auth })
  const got: string[] = []
  nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err === null) got.push(msg.string())
    },
  })
  await nc.flush()
  return { got, nc }
}

/** Publishes through the daemon configured by `env` and waits for the subscriber to receive it. */
async function relayThroughDaemon(
  env: NodeJS.ProcessEnv,
  serverUrl: string,
  subscriberAuth: Partial<ConnectionOptions>,
): Promise<void> {
  const topic = `auth/${uniqueName('nats')}`
  const sub = await subscriber(serverUrl, topic.replace('/', '.'), subscriberAuth)
  const { daemon, url } = await startLoggedDaemon(
    configFromEnv({ EDGEBRIDGE_NATS_SERVERS: serverUrl, ...env }, { core: { backend: 'nats' } }),
  )
  try {
    const device = await connectDevice(url, uniqueName('auth-nats'))
    await device.publishAsync(topic, 'hello over auth', { qos: 1 })
    await waitUntil(() => sub.got.length === 1, 10_000, 'the message on NATS')
    assert.equal(sub.got[0], 'hello over auth')
    await device.endAsync()
  } finally {
    await daemon.stop()
    await sub.nc.close()
  }
}

async function refusesAnonymous(url: string): Promise<void> {
  await assert.rejects(connect({ servers: url, reconnect: false }), /authorization|auth/i)
}

describe('core auth - nats with users, an nkey and a token', () => {
  let server: RestartableTestServer
  let tokenServer: RestartableTestServer
  let secrets: SecretDir
  const user = nkeys.createUser()
  const seed = new TextDecoder().decode(user.getSeed())

  before(async () => {
    secrets = await secretDir()
    const conf = await secrets.write(
      'nats-server.conf',
      `authorization {\n  users = [\n    { user: "${USER}", password: "${PASSWORD}" }\n    { nkey: "${user.getPublicKey()}" }\n  ]\n}\n`,
    )
    server = await startNatsServer({ args: ['-c', conf] })
    tokenServer = await startNatsServer({ args: ['--auth', TOKEN] })
  })
  after(async () => {
    await server.close()
    await tokenServer.close()
    await secrets.remove()
  })

  it('core auth - nats refuses anonymous clients (the test servers are really locked)', async () => {
    await refusesAnonymous(server.url)
    await refusesAnonymous(tokenServer.url)
  })

  it('core auth - nats: the daemon relays as user edge, password read from nats.passwordFile', async () => {
    const passwordFile = await secrets.write('nats-password', `${PASSWORD}\n`)
    await relayThroughDaemon(
      { EDGEBRIDGE_NATS_USER: USER, EDGEBRIDGE_NATS_PASSWORD_FILE: passwordFile },
      server.url,
      { user: USER, pass: PASSWORD },
    )
  })

  it('core auth - nats: the daemon relays with an NKey whose seed is in nats.nkeySeedFile', async () => {
    const seedFile = await secrets.write('user.nk', `${seed}\n`)
    await relayThroughDaemon({ EDGEBRIDGE_NATS_NKEY_SEED_FILE: seedFile }, server.url, {
      user: USER,
      pass: PASSWORD,
    })
  })

  it('core auth - nats: the daemon relays with the token read from nats.tokenFile', async () => {
    const tokenFile = await secrets.write('nats-token', `${TOKEN}\n`)
    await relayThroughDaemon({ EDGEBRIDGE_NATS_TOKEN_FILE: tokenFile }, tokenServer.url, { token: TOKEN })
  })

  it('core auth - nats: a wrong password is a non-retriable BACKEND_AUTH', async () => {
    const backend = createNatsBackend(
      configFromEnv({
        EDGEBRIDGE_NATS_SERVERS: server.url,
        EDGEBRIDGE_NATS_USER: USER,
        EDGEBRIDGE_NATS_PASSWORD: 'wrong',
      }),
      { logger: silentLogger() },
    )
    try {
      await backend.connect()
      await rejectsWithAuth(backend.send(oneRecord(uniqueName('auth').replace(/-/g, '_'))))
    } finally {
      await backend.close()
    }
  })

  it('core auth - nats: with a wrong password the daemon stays up, keeps acknowledging and logs BACKEND_AUTH', async () => {
    const passwordFile = await secrets.write('nats-wrong', 'not-the-password\n')
    const { daemon, url, log } = await startLoggedDaemon(
      configFromEnv(
        {
          EDGEBRIDGE_NATS_SERVERS: server.url,
          EDGEBRIDGE_NATS_USER: USER,
          EDGEBRIDGE_NATS_PASSWORD_FILE: passwordFile,
        },
        { core: { backend: 'nats' }, forwarder: { drainTimeoutMs: 100 } },
      ),
    )
    try {
      const device = await connectDevice(url, 'auth-nats-wrong')
      await device.publishAsync('auth/wrong', 'kept', { qos: 1 })
      await waitUntil(() => refusalCodes(log).length > 0, 10_000, 'the forwarder to log the refusal')
      assert.deepEqual(refusalCodes(log)[0], { code: 'BACKEND_AUTH', retriable: false })
      assert.ok(!JSON.stringify(log.lines).includes('not-the-password'), 'the password is not logged')
      await device.publishAsync('auth/wrong', 'kept too', { qos: 1 })
      assert.equal(daemon.spool.stats().depthRecords, 2)
      await device.endAsync()
    } finally {
      await daemon.stop()
    }
  })
})
