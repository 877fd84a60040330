/**
 * The HTTP listener's access rule over real HTTP, against the whole daemon: with http.tokenFile set,
 * /metrics, /api/status and the page answer 401 without the bearer token and 200 with it, while
 * /healthz and /readyz stay open; a refused request changes nothing.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { startTestDaemon } from '../support/daemon-under-test.js'
import { edgebridgeCli } from '../support/edgebridge-cli.js'

describe('http - bearer token (redis)', () => {
  let base: string
  let dir: string
  let tokenFile: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgebridge-http-token-'))
    tokenFile = join(dir, 'token')
    await writeFile(tokenFile, 'let-me-read\n', { mode: 0o600 })
    const { daemon } = await startTestDaemon({ core: { backend: 'redis' }, http: { tokenFile } })
    base = `http://127.0.0.1:${daemon.httpPort()}`
  })

  after(() => rm(dir, { recursive: true, force: true }))

  it('http - without the token: 401 with WWW-Authenticate; with it: 200; probes stay open', async () => {
    const refused = await fetch(`${base}/metrics`)
    assert.equal(refused.status, 401)
    assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer/)
    assert.doesNotMatch(await refused.text(), /edgebridge_/)
    assert.equal(
      (await fetch(`${base}/api/status`, { headers: { authorization: 'Bearer nope' } })).status,
      401,
    )
    const allowed = await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer let-me-read' } })
    assert.equal(allowed.status, 200)
    assert.match(await allowed.text(), /^# HELP /m)
    assert.equal((await fetch(`${base}/healthz`)).status, 200)
    assert.equal((await fetch(`${base}/readyz`)).status, 200)
  })

  it('status - reads the token from http.tokenFile; without it the refusal is one line, exit 69', async () => {
    const ok = await edgebridgeCli(['status', '--url', base], { EDGEBRIDGE_HTTP_TOKEN_FILE: tokenFile })
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /^test-gw: 0 devices, backlog 0 records, core redis connected\n/)
    const refused = await edgebridgeCli(['status', '--url', base])
    assert.equal(refused.code, 69)
    assert.match(refused.stderr, /answered 401/)
  })
})
