import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildSchema, envNameFor, forEachLeaf } from '../../src/config/schema/index.js'

test('config - every key has doc, format, default and a unique EDGEBRIDGE_ env name', () => {
  const seen = new Map<string, string>()
  forEachLeaf(buildSchema({}), (path, leaf) => {
    const key = path.join('.')
    assert.ok(leaf.doc.length > 10, `${key} doc`)
    assert.ok(leaf.format.expect.length > 0, `${key} format`)
    assert.notEqual(leaf.default, undefined, `${key} default`)
    assert.equal(leaf.format.check(leaf.default), true, `${key} default passes its own format`)
    const env = leaf.env ?? envNameFor(path)
    assert.match(env, /^EDGEBRIDGE_[A-Z0-9_]+$/, key)
    assert.equal(seen.get(env), undefined, `${env} used by ${seen.get(env)} and ${key}`)
    seen.set(env, key)
  })
  assert.equal(envNameFor(['mqtt', 'maxPacketBytes']), 'EDGEBRIDGE_MQTT_MAX_PACKET_BYTES')
  assert.equal(envNameFor(['nats', 'tls', 'caFile']), 'EDGEBRIDGE_NATS_TLS_CA_FILE')
})

test('config - keys named like secrets are flagged secret', () => {
  forEachLeaf(buildSchema({}), (path, leaf) => {
    const name = path[path.length - 1] as string
    const looksSecret = /(password|token|secret|key)$/i.test(name) && !name.endsWith('File')
    assert.equal(leaf.secret, looksSecret, path.join('.'))
  })
})

test('config - keys that carry a unit say so in their name', () => {
  forEachLeaf(buildSchema({}), (path, leaf) => {
    const name = path[path.length - 1] as string
    if (leaf.format.name === 'eb-duration-ms') assert.match(name, /Ms$/, path.join('.'))
    if (leaf.format.name.includes('bytes')) assert.match(name, /Bytes$/, path.join('.'))
  })
})
