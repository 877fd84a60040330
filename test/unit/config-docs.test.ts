import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { configSchemaDocs } from '../../src/config/index.js'
import { CONFIG_DOCS_PATH, renderConfigDocs } from '../../scripts/gen-config-docs.js'

test('config - docs/configuration.md is generated from the current schema', async () => {
  const onDisk = readFileSync(CONFIG_DOCS_PATH, 'utf8')
  assert.equal(onDisk, await renderConfigDocs(), 'run: npx tsx scripts/gen-config-docs.ts')
})

test('config - the reference lists every stable environment variable', () => {
  const docs = configSchemaDocs()
  for (const name of [
    'EDGEBRIDGE_BACKEND',
    'EDGEBRIDGE_MQTT_HOST',
    'EDGEBRIDGE_MQTT_PORT',
    'EDGEBRIDGE_DATA_DIR',
    'EDGEBRIDGE_REDIS_URL',
    'EDGEBRIDGE_NATS_SERVERS',
    'EDGEBRIDGE_KAFKA_BROKERS',
    'EDGEBRIDGE_GATEWAY_ID',
    'EDGEBRIDGE_LOG_LEVEL',
    'EDGEBRIDGE_CONFIG',
    'EDGEBRIDGE_SPOOL_MAX_BYTES',
    'EDGEBRIDGE_HTTP_HOST',
    'EDGEBRIDGE_HTTP_PORT',
    'MSIGHT_NATS_SERVERS',
  ]) {
    assert.ok(docs.includes(name), name)
  }
})
