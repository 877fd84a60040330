import { createServer } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { AclFile } from '../../src/ingress/auth/acl-file.js'
import { identityOf } from '../../src/ingress/auth/authenticator.js'
import { loadPasswordFile, writePasswordEntry } from '../../src/ingress/auth/password-file.js'
import { createListener } from '../../src/ingress/listeners/create-listener.js'
import { silentLogger } from '../../src/observability/logger.js'
import {
  listenerConfig,
  mustConnect,
  startSecurityBroker,
  tryConnect,
  urlOf,
  type SecurityBroker,
} from '../support/security-broker.js'

const ACL = `
user alice
topic readwrite alice/#
topic read shared/#
pattern write devices/%c/up
`

describe('security - authentication and ACL against a live broker', () => {
  let dir: string
  let sb: SecurityBroker
  let url: string
  let publicUrl: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgebridge-sec-'))
    const pwFile = join(dir, 'passwd')
    await writePasswordEntry(pwFile, 'alice', 'wonderland', { create: true })
    await writePasswordEntry(pwFile, 'bob', 'builder')
    sb = await startSecurityBroker({
      passwords: await loadPasswordFile(pwFile),
      acl: AclFile.parse(ACL, 'acl'),
    })
    url = urlOf(await sb.listen(listenerConfig()))
    // allowAnonymous null on a non-loopback bind address: anonymous refused.
    publicUrl = urlOf(await sb.listen(listenerConfig({ host: '0.0.0.0' })))
  })
  after(async () => {
    await sb.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('security - good credentials connect and the username is recorded', async () => {
    const c = await mustConnect(url, { clientId: 'alice-1', username: 'alice', password: 'wonderland' })
    assert.equal(identityOf(await sb.whenReady('alice-1'))?.username, 'alice')
    await c.endAsync()
  })

  it('security - a wrong password or unknown user gets CONNACK 4 and is counted', async () => {
    const before = sb.auth.counters.badCredentials
    assert.deepEqual(await tryConnect(url, { username: 'alice', password: 'nope' }), {
      kind: 'refused',
      returnCode: 4,
    })
    assert.deepEqual(await tryConnect(url, { username: 'mallory', password: 'x' }), {
      kind: 'refused',
      returnCode: 4,
    })
    assert.equal(sb.auth.counters.badCredentials, before + 2)
  })

  it('security - anonymous: allowed on a loopback listener, CONNACK 5 on a non-loopback one', async () => {
    const c = await mustConnect(url, { clientId: 'anon-1' })
    assert.equal(identityOf(await sb.whenReady('anon-1'))?.username, null)
    await c.endAsync()
    const before = sb.auth.counters.notAuthorized
    assert.deepEqual(await tryConnect(publicUrl, { clientId: 'anon-2' }), { kind: 'refused', returnCode: 5 })
    assert.equal(sb.auth.counters.notAuthorized, before + 1)
    const ok = await mustConnect(publicUrl, { username: 'bob', password: 'builder' })
    await ok.endAsync()
  })

  it('security - a refused subscription gets SUBACK 0x80, allowed ones are granted', async () => {
    const c = await mustConnect(url, { username: 'alice', password: 'wonderland' })
    // mqtt.js rejects a SUBACK holding 0x80 but hands over the packet it received.
    const err = await c
      .subscribeAsync({ 'alice/in': { qos: 1 }, 'bob/#': { qos: 1 }, 'shared/x': { qos: 0 } })
      .then(
        () => assert.fail('expected a refused subscription'),
        (e: Error & { packet?: { granted: number[] } }) => e,
      )
    assert.deepEqual(err.packet?.granted, [1, 128, 0])
    const ok = await c.subscribeAsync('alice/other', { qos: 1 })
    assert.equal(ok[0]!.qos, 1)
    assert.equal(c.connected, true, 'a refused subscription does not disconnect')
    await c.endAsync()
  })

  it('security - a publish the ACL refuses disconnects the client; allowed ones go through', async () => {
    const c = await mustConnect(url, { clientId: 'dev-9', username: 'alice', password: 'wonderland' })
    await c.publishAsync('alice/out', 'ok', { qos: 1 })
    await c.publishAsync('devices/dev-9/up', 'ok', { qos: 1 })
    assert.ok(sb.published.includes('alice/out'))
    assert.ok(sb.published.includes('devices/dev-9/up'))
    const closed = new Promise<void>((r) => c.once('close', () => r()))
    c.publish('shared/x', 'not allowed', { qos: 1 })
    await closed
    assert.equal(sb.published.includes('shared/x'), false)
    c.end(true)
  })

  it('security - nobody may publish to $SYS/, even anonymous clients without an ACL', async () => {
    const open = await startSecurityBroker()
    try {
      const l = await open.listen(listenerConfig())
      const c = await mustConnect(urlOf(l))
      await c.publishAsync('anything/goes', 'x', { qos: 1 })
      const closed = new Promise<void>((r) => c.once('close', () => r()))
      c.publish('$SYS/broker/fake', 'x', { qos: 1 })
      await closed
      c.end(true)
      assert.deepEqual(open.published, ['anything/goes'])
    } finally {
      await open.close()
    }
  })

  it('security - messages a subscriber may not read are not delivered to a wide subscription', async () => {
    const sub = await mustConnect(url, { username: 'alice', password: 'wonderland' })
    const got: string[] = []
    sub.on('message', (t) => got.push(t))
    // alice may read alice/# and shared/#; '#' intersects them, so it is granted...
    const [g] = await sub.subscribeAsync('#', { qos: 1 })
    assert.equal(g!.qos, 1)
    // ...but only readable topics arrive.
    const pub = await mustConnect(url, { clientId: 'dev-3', username: 'bob', password: 'builder' })
    await pub.publishAsync('devices/dev-3/up', 'hidden', { qos: 1 })
    const alice = await mustConnect(url, { username: 'alice', password: 'wonderland' })
    await alice.publishAsync('alice/last', 'visible', { qos: 1 })
    await new Promise<void>((r) => {
      const check = (): void => (got.includes('alice/last') ? r() : void sub.once('message', check))
      check()
    })
    assert.deepEqual(got, ['alice/last'])
    await Promise.all([sub.endAsync(), pub.endAsync(), alice.endAsync()])
  })
})

describe('security - listener errors', () => {
  it('security - a taken port is LISTEN_ADDRESS_IN_USE naming the address', async () => {
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as { port: number }).port
    const sb = await startSecurityBroker()
    try {
      await assert.rejects(
        createListener(listenerConfig({ port }), sb.broker, silentLogger()),
        (err: Error & { code?: string }) =>
          err.code === 'LISTEN_ADDRESS_IN_USE' && err.message === `127.0.0.1:${port} is already in use`,
      )
    } finally {
      await sb.close()
      await new Promise((r) => blocker.close(r))
    }
  })
})
