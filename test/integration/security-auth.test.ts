/**
 * Authentication and the ACL through the daemon an operator runs: `edgebridge run` as a child process
 * configured with `security.passwordFile` and `security.aclFile`, real MQTT clients, and the Redis
 * core on the other side, so "allowed" means the message reached the core and "refused" means it did
 * not. SIGHUP reloads both files while devices stay connected.
 *
 * Two listeners: `locked` says nothing about anonymous clients (so the password file turns them
 * away, as Mosquitto 2), `open` sets allowAnonymous: true.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import type { MqttClient } from 'mqtt'
import { writePasswordEntry } from '../../src/ingress/auth/password-file.js'
import { secretDir, type SecretDir } from '../support/auth-daemon.js'
import { DaemonProcess } from '../support/daemon-process.js'
import { testRedisUrl, uniqueName } from '../support/env.js'
import { mustConnect, tryConnect } from '../support/mqtt-connect.js'
import { freePort } from '../support/server-process.js'
import { settlesWithin, waitUntil } from '../support/wait-until.js'

const RECEIVE_TIMEOUT_MS = 15_000
const RELOAD_TIMEOUT_MS = 15_000

const ACL = `
# anonymous clients (where a listener lets them in)
topic write public/#

user alice
topic readwrite alice/#
topic read shared/#
pattern write devices/%c/up

user bob
topic write bob/#
`

/** After SIGHUP: alice may also write granted/#; bob's password changed; carol is new. */
const ACL_RELOADED = `${ACL}
user alice
topic write granted/#

user carol
topic write carol/#
`

describe('security - passwords, ACL and anonymous clients through the daemon', () => {
  let secrets: SecretDir
  let passwd: string
  let acl: string
  let daemon: DaemonProcess
  let core: Redis
  let prefix: string
  /** MQTT topics that reached the core, in arrival order. */
  const atCore: string[] = []
  let locked: string
  let open: string
  const clients: MqttClient[] = []

  const connect = async (url: string, options: Parameters<typeof mustConnect>[1]) => {
    const c = await mustConnect(url, options)
    clients.push(c)
    return c
  }
  /** Resolves when the daemon closes `client`'s connection; fails the test if it does not. */
  const closedByDaemon = (client: MqttClient) =>
    settlesWithin(
      new Promise<void>((r) => client.once('close', () => r())),
      RECEIVE_TIMEOUT_MS,
      'the daemon closing the connection',
    )
  const reached = (topic: string) =>
    waitUntil(() => atCore.includes(topic), RECEIVE_TIMEOUT_MS, `${topic} at the core`)

  before(async () => {
    secrets = await secretDir()
    passwd = await secrets.write('passwd', '')
    await writePasswordEntry(passwd, 'alice', 'wonderland')
    await writePasswordEntry(passwd, 'bob', 'builder')
    acl = await secrets.write('acl', ACL)
    prefix = `${uniqueName('sec')}:`
    core = new Redis(testRedisUrl())
    core.on('pmessage', (_pattern, channel: string) => atCore.push(channel.slice(prefix.length)))
    await core.psubscribe(`${prefix}*`)
    const [lockedPort, openPort] = [await freePort(), await freePort()]
    daemon = await DaemonProcess.start({
      name: 'edgebridge (security)',
      env: {
        EDGEBRIDGE_BACKEND: 'redis',
        EDGEBRIDGE_REDIS_URL: testRedisUrl(),
        EDGEBRIDGE_REDIS_PREFIX: prefix,
        EDGEBRIDGE_DATA_DIR: secrets.dir,
        EDGEBRIDGE_SPOOL_KIND: 'memory',
        EDGEBRIDGE_LOG_LEVEL: 'info',
        EDGEBRIDGE_SECURITY_PASSWORD_FILE: passwd,
        EDGEBRIDGE_SECURITY_ACL_FILE: acl,
        EDGEBRIDGE_LISTENERS: JSON.stringify([
          { type: 'tcp', host: '127.0.0.1', port: lockedPort },
          { type: 'tcp', host: '127.0.0.1', port: openPort, allowAnonymous: true },
        ]),
      },
    })
    locked = `mqtt://127.0.0.1:${lockedPort}`
    open = `mqtt://127.0.0.1:${openPort}`
  })

  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)))
    await daemon?.stop()
    await core?.quit()
    await secrets?.remove()
  })

  it('security - good credentials connect and their messages reach the core', async () => {
    const alice = await connect(locked, { clientId: 'alice-1', username: 'alice', password: 'wonderland' })
    await alice.publishAsync('alice/out', 'ok', { qos: 1 })
    await reached('alice/out')
  })

  it('security - a wrong password or an unknown user gets CONNACK 4, logged with its reason', async () => {
    const refusedBefore = daemon.find('connection refused').length
    assert.deepEqual(await tryConnect(locked, { username: 'alice', password: 'nope' }), {
      kind: 'refused',
      returnCode: 4,
    })
    assert.deepEqual(await tryConnect(locked, { username: 'mallory', password: 'x' }), {
      kind: 'refused',
      returnCode: 4,
    })
    // The daemon's log reaches us through a pipe, a little after the CONNACK.
    await waitUntil(
      () => daemon.find('connection refused').length >= refusedBefore + 2,
      RECEIVE_TIMEOUT_MS,
      'two refusals in the log',
    )
    const refusals = daemon.find('connection refused').slice(refusedBefore)
    assert.deepEqual(
      refusals.map((l) => [l.username, l.reason]),
      [
        ['alice', 'bad user name or password'],
        ['mallory', 'bad user name or password'],
      ],
    )
  })

  it('security - with a password file, anonymous clients get CONNACK 5 unless the listener sets allowAnonymous', async () => {
    assert.deepEqual(await tryConnect(locked, { clientId: 'anon-1' }), { kind: 'refused', returnCode: 5 })
    // The listener that opts in takes them, and the ACL's anonymous rules apply to them.
    const anon = await connect(open, { clientId: 'anon-2' })
    await anon.publishAsync('public/hello', 'x', { qos: 1 })
    await reached('public/hello')
    // The start-up log says what each listener decided, and why.
    const policy = (msg: string) =>
      daemon.find(msg).map((l) => [String(l.listener).replace(/:\d+$/, ''), l.allowAnonymous, l.reason])
    assert.deepEqual(policy('anonymous clients refused'), [
      ['tcp://127.0.0.1', false, 'a password file is configured'],
    ])
    assert.deepEqual(policy('anonymous clients allowed'), [
      ['tcp://127.0.0.1', true, 'allowAnonymous is set on the listener'],
    ])
  })

  it('security - a publish the ACL refuses disconnects the client and never reaches the core', async () => {
    const dev = await connect(locked, { clientId: 'dev-9', username: 'alice', password: 'wonderland' })
    await dev.publishAsync('devices/dev-9/up', 'ok', { qos: 1 })
    const closed = closedByDaemon(dev)
    dev.publish('shared/x', 'not allowed', { qos: 1 })
    await closed
    // The core receives in spool order: once a later message is there, an earlier one would be too.
    const bob = await connect(locked, { username: 'bob', password: 'builder' })
    await bob.publishAsync('bob/after', 'x', { qos: 1 })
    await reached('bob/after')
    assert.ok(atCore.includes('devices/dev-9/up'))
    assert.equal(atCore.includes('shared/x'), false, 'the refused publish reached the core')
    await waitUntil(
      () => daemon.find('publish refused by ACL').some((l) => l.topic === 'shared/x'),
      RECEIVE_TIMEOUT_MS,
      'the refusal in the log',
    )
  })

  it('security - nobody may publish to $SYS/, not even an anonymous client the ACL lets write', async () => {
    const anon = await connect(open, { clientId: 'anon-sys' })
    const closed = closedByDaemon(anon)
    anon.publish('$SYS/broker/fake', 'x', { qos: 1 })
    await closed
    const marker = await connect(open, { clientId: 'anon-marker' })
    await marker.publishAsync('public/after-sys', 'x', { qos: 1 })
    await reached('public/after-sys')
    assert.equal(atCore.includes('$SYS/broker/fake'), false)
  })

  it('security - a refused subscription gets SUBACK 0x80; allowed ones are granted, the client stays', async () => {
    const alice = await connect(locked, { username: 'alice', password: 'wonderland' })
    // mqtt.js rejects a SUBACK holding 0x80 but hands over the packet it received.
    const err = await alice
      .subscribeAsync({ 'alice/in': { qos: 1 }, 'bob/#': { qos: 1 }, 'shared/x': { qos: 0 } })
      .then(
        () => assert.fail('expected a refused subscription'),
        (e: Error & { packet?: { granted: number[] } }) => e,
      )
    assert.deepEqual(err.packet?.granted, [1, 128, 0])
    assert.equal(alice.connected, true, 'a refused subscription does not disconnect')
  })

  it('security - a wide subscription delivers only what the subscriber may read', async () => {
    const sub = await connect(locked, { username: 'alice', password: 'wonderland' })
    const got: string[] = []
    sub.on('message', (t) => got.push(t))
    // alice may read alice/# and shared/#; '#' intersects them, so it is granted...
    const [granted] = await sub.subscribeAsync('#', { qos: 1 })
    assert.equal(granted!.qos, 1)
    // ...but only readable topics arrive: bob/hidden is published first and never delivered.
    const bob = await connect(locked, { username: 'bob', password: 'builder' })
    await bob.publishAsync('bob/hidden', 'hidden', { qos: 1 })
    const alice = await connect(locked, { username: 'alice', password: 'wonderland' })
    await alice.publishAsync('alice/last', 'visible', { qos: 1 })
    await waitUntil(() => got.includes('alice/last'), RECEIVE_TIMEOUT_MS, 'alice/last delivered')
    assert.deepEqual(got, ['alice/last'])
  })

  it('security - SIGHUP reloads the password file and the ACL; connected clients stay', async () => {
    const staying = await connect(locked, { username: 'alice', password: 'wonderland' })
    // Before the reload alice may not write granted/#: the publish closes her connection.
    const probe = await connect(locked, { username: 'alice', password: 'wonderland' })
    const probeClosed = closedByDaemon(probe)
    probe.publish('granted/before', 'x', { qos: 1 })
    await probeClosed

    await writePasswordEntry(passwd, 'bob', 'new-builder')
    await writePasswordEntry(passwd, 'carol', 'singer')
    await secrets.write('acl', ACL_RELOADED)
    const since = daemon.lines.length
    daemon.signal('SIGHUP')
    await daemon.waitForLine('password and ACL files reloaded', since, RELOAD_TIMEOUT_MS)

    // Passwords: bob's old one is refused, the new one and the new user work.
    assert.deepEqual(await tryConnect(locked, { username: 'bob', password: 'builder' }), {
      kind: 'refused',
      returnCode: 4,
    })
    const bob = await connect(locked, { username: 'bob', password: 'new-builder' })
    const carol = await connect(locked, { username: 'carol', password: 'singer' })
    await carol.publishAsync('carol/first', 'x', { qos: 1 })
    // ACL: a client connected before the reload is judged by the new rules on its next publish.
    assert.equal(staying.connected, true, 'SIGHUP keeps connected clients')
    await staying.publishAsync('granted/now', 'x', { qos: 1 })
    await bob.publishAsync('bob/after-reload', 'x', { qos: 1 })
    await reached('carol/first')
    await reached('granted/now')
    await reached('bob/after-reload')
    assert.equal(atCore.includes('granted/before'), false)
  })
})
