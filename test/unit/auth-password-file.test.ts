import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { EdgebridgeError } from '../../src/errors.js'
import { loadPasswordFile, PasswordFile, writePasswordEntry } from '../../src/ingress/auth/password-file.js'
import { runPasswdCommand } from '../../src/cli/passwd.js'

const run = promisify(execFile)

/** mosquitto_passwd comes with Debian's `mosquitto` package; without it this test must fail, not skip. */
async function mosquittoPasswd(args: string[]): Promise<void> {
  try {
    await run('mosquitto_passwd', args)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      assert.fail('mosquitto_passwd not found: install the "mosquitto" package (apt-get install mosquitto)')
    }
    throw err
  }
}

function capture() {
  const out = new PassThrough()
  let text = ''
  out.on('data', (c: Buffer) => (text += c.toString()))
  return { stream: out, text: () => text }
}

describe('auth - password file', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'edgebridge-passwd-'))
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('auth - accepts a file made by mosquitto_passwd ($7$ and $6$) and refuses wrong passwords', async () => {
    const file = join(dir, 'mosq.pw')
    await mosquittoPasswd(['-c', '-b', file, 'alice', 's3cret'])
    await mosquittoPasswd(['-H', 'sha512', '-b', file, 'bob', 'hunter2'])
    await mosquittoPasswd(['-I', '5', '-b', file, 'carol', 'pässwörd'])
    const pw = await loadPasswordFile(file)
    assert.equal(pw.size, 3)
    assert.equal(await pw.verify('alice', 's3cret'), true)
    assert.equal(await pw.verify('alice', 's3cret!'), false)
    assert.equal(await pw.verify('alice', 'hunter2'), false)
    assert.equal(await pw.verify('bob', 'hunter2'), true)
    assert.equal(await pw.verify('bob', 'Hunter2'), false)
    assert.equal(await pw.verify('carol', Buffer.from('pässwörd')), true)
    assert.equal(await pw.verify('nobody', 's3cret'), false)
  })

  it('auth - a file written by our writer verifies, keeps other lines and replaces a user in place', async () => {
    const file = join(dir, 'ours.pw')
    await writeFile(file, '# devices\n')
    await writePasswordEntry(file, 'dev1', 'one')
    await writePasswordEntry(file, 'dev2', 'two')
    await writePasswordEntry(file, 'dev1', 'uno')
    const text = await readFile(file, 'utf8')
    const lines = text.trim().split('\n')
    assert.equal(lines[0], '# devices')
    assert.match(lines[1]!, /^dev1:\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/)
    assert.match(lines[2]!, /^dev2:\$7\$101\$/)
    const pw = await loadPasswordFile(file)
    assert.equal(await pw.verify('dev1', 'uno'), true)
    assert.equal(await pw.verify('dev1', 'one'), false)
    assert.equal(await pw.verify('dev2', 'two'), true)
  })

  it('auth - a malformed line is AUTH_FILE_INVALID naming the file and line', async () => {
    const cases = [
      'alice:$7$101$fEDA0QIfy1xxI+l9$tooShort==',
      'alice:plaintext',
      'no-colon-here',
      'alice:$5$abc$def',
      'alice:$7$zero$fEDA0QIfy1xxI+l9$DFtU0jGvrKUFUFoajBZJinV9ESgt5gLLt0HMHlOpDuJXg1yk4t6bm2apCkSIMrFZIko9d0T3g5Fmi3pLXVcvvQ==',
    ]
    for (const bad of cases) {
      assert.throws(
        () => PasswordFile.parse(`# comment\n\n${bad}\n`, '/etc/edgebridge/passwd'),
        (err: unknown) =>
          err instanceof EdgebridgeError &&
          err.code === 'AUTH_FILE_INVALID' &&
          err.message.startsWith('/etc/edgebridge/passwd:3:'),
        bad,
      )
    }
    await assert.rejects(loadPasswordFile(join(dir, 'missing.pw')), { code: 'AUTH_FILE_INVALID' })
  })

  it('auth - a successful check is cached for a while, a failed one never', async () => {
    const file = join(dir, 'cache.pw')
    await writePasswordEntry(file, 'dev', 'pw', { create: true })
    let now = 1_000
    const pw = await loadPasswordFile(file, { cacheTtlMs: 10_000, now: () => now })
    assert.equal(await pw.verify('dev', 'pw'), true)
    // Replace the stored hash behind the cache's back: a cached success must not consult it...
    ;(pw as unknown as { users: Map<string, unknown> }).users.delete('dev')
    assert.equal(await pw.verify('dev', 'pw'), true)
    assert.equal(await pw.verify('dev', 'wrong'), false)
    // ...until the entry expires.
    now += 10_001
    assert.equal(await pw.verify('dev', 'pw'), false)
  })

  it('auth - passwd command: -c/-b create, prompt from stdin, -D delete, usage errors', async () => {
    const file = join(dir, 'cli.pw')
    const err = capture()
    const io = (input: string) => {
      const stdin = new PassThrough()
      stdin.end(input)
      return { stdin, stdout: capture().stream, stderr: err.stream }
    }
    assert.equal(await runPasswdCommand(['-c', '-b', file, 'a', 'pa'], io('')), 0)
    assert.equal(await runPasswdCommand([file, 'b'], io('pb\n')), 0)
    let pw = await loadPasswordFile(file)
    assert.equal(await pw.verify('a', 'pa'), true)
    assert.equal(await pw.verify('b', 'pb'), true)
    assert.equal(await runPasswdCommand(['-D', file, 'a'], io('')), 0)
    assert.equal(await runPasswdCommand(['-D', file, 'a'], io('')), 1)
    pw = await loadPasswordFile(file)
    assert.equal(pw.has('a'), false)
    assert.equal(pw.has('b'), true)
    assert.equal(await runPasswdCommand(['-b', file, 'bad:name', 'x'], io('')), 1)
    assert.equal(await runPasswdCommand(['-c', '-D', file, 'x'], io('')), 1)
    assert.equal(await runPasswdCommand([file], io('')), 1)
    assert.match(err.text(), /Usage: edgebridge passwd/)
    // mosquitto_passwd itself can update the file we wrote (the format is the same).
    await mosquittoPasswd(['-b', file, 'c', 'pc'])
    pw = await loadPasswordFile(file)
    assert.equal(await pw.verify('b', 'pb'), true)
    assert.equal(await pw.verify('c', 'pc'), true)
  })
})
