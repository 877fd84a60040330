import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { DAEMON_NODE_FLAGS } from '../../src/node-flags.js'

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

/** The options between `node` and the script in one command line, as written in the file. */
function flagsBefore(script: string, line: string): string[] {
  const at = line.indexOf(script)
  assert.ok(at >= 0, `${script} is not in: ${line}`)
  const words = line
    .slice(0, at)
    .split(/[\s",[\]]+/)
    .filter((w) => w !== '')
  return words.slice(words.findIndex((w) => /(^|\/)node$/.test(w)) + 1)
}

describe('node flags', () => {
  const expected = [...DAEMON_NODE_FLAGS]

  it('node flags - bin/edgebridge.js passes the daemon options on its #! line', () => {
    const shebang = read('bin/edgebridge.js').split('\n')[0]!
    assert.match(shebang, /^#!\/usr\/bin\/env -S node( |$)/)
    assert.deepEqual(shebang.split(' ').slice(3), expected)
  })

  it('node flags - npm start passes the daemon options', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts
    assert.deepEqual(flagsBefore('bin/edgebridge.js', scripts.start!), expected)
  })

  it('node flags - the systemd unit passes the daemon options', () => {
    const exec = read('systemd/edgebridge.service')
      .split('\n')
      .find((l) => l.startsWith('ExecStart='))!
    assert.deepEqual(flagsBefore('/opt/edgebridge/bin/edgebridge.js', exec), expected)
  })

  it('node flags - the Docker image passes the daemon options', () => {
    const entry = read('Dockerfile')
      .split('\n')
      .find((l) => l.startsWith('ENTRYPOINT'))!
    assert.deepEqual(flagsBefore('bin/edgebridge.js', entry), expected)
  })
})
