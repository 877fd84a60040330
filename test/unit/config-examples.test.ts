import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../src/config/index.js'

const dir = fileURLToPath(new URL('../../config/examples/', import.meta.url))

test('config - every example config loads', () => {
  const files = readdirSync(dir).filter((f) => /\.(json|ya?ml)$/.test(f))
  assert.ok(files.length >= 6)
  // File paths in examples point at /etc; check them against stand-in files so only the shape is tested.
  const tmp = mkdtempSync(join(tmpdir(), 'edgebridge-examples-'))
  try {
    for (const file of files) {
      let text = readFileSync(join(dir, file), 'utf8')
      text = text.replace(/\/etc\/edgebridge\/[\w./-]+/g, (p) => {
        const stand = join(tmp, p.replaceAll('/', '_'))
        writeFileSync(stand, 'x')
        return stand
      })
      const copy = join(tmp, file)
      writeFileSync(copy, text)
      const c = loadConfig({ argv: [], env: {}, configFile: copy })
      assert.equal(c.gatewayId, 'gw-site1', file)
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
})

test('config - backend examples select their backend', () => {
  for (const backend of ['kafka', 'nats', 'jetstream', 'redis', 'redis-streams']) {
    const c = loadConfig({ argv: [], env: {}, configFile: join(dir, `${backend}.json`) })
    assert.equal(c.core.backend, backend)
  }
})
