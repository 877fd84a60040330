import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { identityOf } from '../../src/ingress/auth/authenticator.js'
import type { ListenerHandle } from '../../src/ingress/listeners/create-listener.js'
import { makeTestCerts, type TestCerts } from '../support/certs.js'
import { listenerConfig, startSecurityBroker, type SecurityBroker } from '../support/security-broker.js'
import { mustConnect, tryConnect, urlOf } from '../support/mqtt-connect.js'

/** Resolves with the server certificate's CN, or the handshake error's message and code. */
function handshake(
  port: number,
  options: Record<string, unknown>,
): Promise<{ cn?: string; error?: string; code?: string }> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...options }, () => {
      const cn = s.getPeerCertificate().subject.CN
      s.destroy()
      resolve({ cn: Array.isArray(cn) ? cn[0] : cn })
    })
    s.on('error', (err: Error & { code?: string }) => resolve({ error: err.message, code: err.code }))
  })
}

describe('security - TLS and WebSocket listeners', () => {
  let certs: TestCerts
  let sb: SecurityBroker
  let tls: ListenerHandle
  let mtls: ListenerHandle
  let ca: Buffer

  before(async () => {
    certs = await makeTestCerts()
    ca = readFileSync(certs.ca.cert)
    sb = await startSecurityBroker()
    const tlsFiles = { certFile: certs.server.cert, keyFile: certs.server.key, caFile: certs.ca.cert }
    tls = await sb.listen(listenerConfig({ type: 'tls', allowAnonymous: true, tls: { ...tlsFiles } }))
    mtls = await sb.listen(
      listenerConfig({
        type: 'tls',
        tls: { ...tlsFiles, requireCertificate: true, useIdentityAsUsername: true },
      }),
    )
  })
  after(async () => {
    await sb.close()
    await certs.cleanup()
  })

  it('security - TLS 1.2+ connects; TLS 1.1 is refused', async () => {
    const c = await mustConnect(urlOf(tls, 'mqtts'), { ca })
    await c.endAsync()
    const tls11 = { ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }
    // This client can speak TLS 1.1: a server that accepts it completes the handshake...
    const permissive = createTlsServer({
      cert: readFileSync(certs.server.cert),
      key: readFileSync(certs.server.key),
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    })
    await new Promise<void>((r) => permissive.listen(0, '127.0.0.1', r))
    try {
      const control = await handshake((permissive.address() as AddressInfo).port, tls11)
      assert.equal(control.cn, 'localhost', `the client side can do TLS 1.1: ${control.error ?? ''}`)
    } finally {
      await new Promise((r) => permissive.close(r))
    }
    // ...so when ours fails, it is our server that refused: its protocol_version alert (70).
    const old = await handshake(tls.address.port, tls11)
    assert.equal(old.code, 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', `refused by the server: ${old.error}`)
    const v13 = await handshake(tls.address.port, { ca, minVersion: 'TLSv1.3' })
    assert.equal(v13.cn, 'localhost')
  })

  it('security - a client that trusts another CA refuses our server', async () => {
    const outcome = await tryConnect(urlOf(tls, 'mqtts'), { ca: readFileSync(certs.otherCa.cert) })
    assert.equal(outcome.kind, 'closed')
  })

  it('security - mutual TLS: no certificate or one from another CA is refused', async () => {
    const none = await tryConnect(urlOf(mtls, 'mqtts'), { ca })
    assert.notEqual(none.kind, 'connected')
    const wrong = await tryConnect(urlOf(mtls, 'mqtts'), {
      ca,
      cert: readFileSync(certs.otherClient.cert),
      key: readFileSync(certs.otherClient.key),
    })
    assert.notEqual(wrong.kind, 'connected')
  })

  it('security - mutual TLS: the certificate CN becomes the username, whatever the client claims', async () => {
    const pair = await certs.client('sensor-42')
    const c = await mustConnect(urlOf(mtls, 'mqtts'), {
      ca,
      cert: readFileSync(pair.cert),
      key: readFileSync(pair.key),
      clientId: 'mtls-1',
      username: 'admin',
      password: 'irrelevant',
    })
    assert.equal(identityOf(await sb.whenReady('mtls-1'))?.username, 'sensor-42')
    await c.endAsync()
  })

  it('security - wss carries MQTT on the configured path', async () => {
    const wss = await sb.listen(
      listenerConfig({
        type: 'wss',
        path: '/edge',
        allowAnonymous: true,
        tls: { certFile: certs.server.cert, keyFile: certs.server.key },
      }),
    )
    const c = await mustConnect(urlOf(wss, 'wss', '/edge'), { ca, clientId: 'ws-1' })
    const got = new Promise<string>((r) => c.once('message', (_t, p) => r(p.toString())))
    await c.subscribeAsync('ws/echo', { qos: 1 })
    await c.publishAsync('ws/echo', 'over websocket', { qos: 1 })
    assert.equal(await got, 'over websocket')
    await c.endAsync()
    const wrongPath = await tryConnect(urlOf(wss, 'wss', '/mqtt'), { ca })
    assert.notEqual(wrongPath.kind, 'connected')
  })

  it('security - ws listener works without TLS', async () => {
    const ws = await sb.listen(listenerConfig({ type: 'ws', path: '/mqtt' }))
    const c = await mustConnect(urlOf(ws, 'ws', '/mqtt'))
    await c.publishAsync('ws/plain', 'x', { qos: 1 })
    await c.endAsync()
  })

  it('security - reloadCertificates serves the new certificate and keeps connected clients', async () => {
    const other = await makeTestCerts()
    try {
      const { copyFile } = await import('node:fs/promises')
      const files = { certFile: `${certs.dir}/reload.crt`, keyFile: `${certs.dir}/reload.key` }
      await copyFile(certs.server.cert, files.certFile)
      await copyFile(certs.server.key, files.keyFile)
      const l = await sb.listen(listenerConfig({ type: 'tls', allowAnonymous: true, tls: files }))
      const before = await mustConnect(urlOf(l, 'mqtts'), { ca })
      // A renewed certificate, from a different CA so the swap is visible to a new client.
      await copyFile(other.server.cert, files.certFile)
      await copyFile(other.server.key, files.keyFile)
      await l.reloadCertificates()
      const otherCa = readFileSync(other.ca.cert)
      assert.ok((await handshake(l.address.port, { ca })).error, 'the old CA no longer verifies the server')
      const after = await mustConnect(urlOf(l, 'mqtts'), { ca: otherCa })
      assert.equal(before.connected, true)
      await before.publishAsync('still/here', 'x', { qos: 1 })
      await Promise.all([before.endAsync(), after.endAsync()])
    } finally {
      await other.cleanup()
    }
  })
})
