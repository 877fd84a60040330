/**
 * The HTTP listener's access rule and its configuration: off loopback it must be protected (token,
 * client certificates) or opened on purpose; route names are bounded metric labels.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { loadConfig } from '../../src/config/index.js'
import { ConfigError } from '../../src/errors.js'
import { accessRule } from '../../src/http/access.js'

const load = (env: NodeJS.ProcessEnv) => loadConfig({ env, argv: [] })

function refused(env: NodeJS.ProcessEnv, pattern: RegExp): void {
  assert.throws(
    () => load(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError)
      assert.match(err.message, pattern)
      assert.ok(!err.message.includes('\n'), 'one line')
      return true
    },
  )
}

function request(authorization?: string, authorized = false): IncomingMessage {
  return {
    headers: authorization === undefined ? {} : { authorization },
    socket: { authorized },
  } as unknown as IncomingMessage
}

test('http config - defaults: enabled on 127.0.0.1:18830, env EDGEBRIDGE_HTTP_HOST / EDGEBRIDGE_HTTP_PORT', () => {
  const c = load({})
  assert.deepEqual(
    [c.http.enabled, c.http.host, c.http.port, c.http.allowAnonymous],
    [true, '127.0.0.1', 18830, false],
  )
  const e = load({ EDGEBRIDGE_HTTP_HOST: '::1', EDGEBRIDGE_HTTP_PORT: '9999' })
  assert.deepEqual([e.http.host, e.http.port], ['::1', 9999])
})

test('http config - off loopback without a token, client certificates or allowAnonymous is refused in one line', () => {
  refused(
    { EDGEBRIDGE_HTTP_HOST: '0.0.0.0' },
    /^http\.host: "0\.0\.0\.0" is not valid: must be a loopback address unless http\.tokenFile/,
  )
  assert.equal(
    load({ EDGEBRIDGE_HTTP_HOST: '0.0.0.0', EDGEBRIDGE_HTTP_ALLOW_ANONYMOUS: 'true' }).http.host,
    '0.0.0.0',
  )
  assert.equal(
    load({ EDGEBRIDGE_HTTP_HOST: '0.0.0.0', EDGEBRIDGE_HTTP_ENABLED: 'false' }).http.enabled,
    false,
  )
  const dir = mkdtempSync(join(tmpdir(), 'edgebridge-http-'))
  try {
    const token = join(dir, 'token')
    writeFileSync(token, 's3cret\n')
    assert.equal(
      load({ EDGEBRIDGE_HTTP_HOST: '0.0.0.0', EDGEBRIDGE_HTTP_TOKEN_FILE: token }).http.tokenFile,
      token,
    )
    refused({ EDGEBRIDGE_HTTP_TLS_CA_FILE: token }, /http\.tls\.caFile.*needs|http\.tls\.caFile/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('http access - loopback without protection is open to this machine', () => {
  const c = load({}).http
  assert.equal(accessRule(c, undefined).allows(request(), '/metrics'), true)
})

test('http access - with a token, only the right bearer token reads; /healthz and /readyz stay open', () => {
  const c = { ...load({}).http, host: '0.0.0.0' }
  const rule = accessRule(c, 's3cret')
  assert.equal(rule.allows(request(), '/metrics'), false)
  assert.equal(rule.allows(request('Bearer wrong!'), '/metrics'), false)
  assert.equal(rule.allows(request('Bearer s3cret'), '/metrics'), true)
  assert.equal(rule.allows(request('Bearer s3cret'), '/'), true)
  assert.equal(rule.allows(request(), '/healthz'), true)
  assert.equal(rule.allows(request(), '/readyz'), true)
  // A token on loopback is enforced too: the operator asked for it.
  assert.equal(accessRule(load({}).http, 's3cret').allows(request(), '/metrics'), false)
})

test('http access - with a CA, a verified client certificate reads', () => {
  const c = { ...load({}).http, host: '0.0.0.0', tls: { certFile: 'c', keyFile: 'k', caFile: 'ca' } }
  const rule = accessRule(c, undefined)
  assert.equal(rule.allows(request(undefined, false), '/metrics'), false)
  assert.equal(rule.allows(request(undefined, true), '/metrics'), true)
})

test('routes config - a route name is a bounded label: letters, digits, _ . -, unique', () => {
  const routes = (r: unknown[]) => ({ EDGEBRIDGE_ROUTES: JSON.stringify(r) })
  assert.equal(load(routes([{ match: 'a/#', target: 'a', name: 'telemetry' }])).routes[0]?.name, 'telemetry')
  refused(routes([{ match: 'a/#', target: 'a', name: 'has space' }]), /routes\[0\]\.name/)
  refused(
    routes([
      { match: 'a/#', target: 'a', name: 'x' },
      { match: 'b/#', target: 'b', name: 'x' },
    ]),
    /routes\[1\]\.name.*unique/,
  )
})
