import { test } from 'node:test'
import assert from 'node:assert/strict'
import { loadConfig, maskSecrets } from '../../src/config/index.js'

test('config - maskSecrets hides passwords and tokens, keeps empty ones empty', () => {
  const config = loadConfig({
    argv: [],
    env: {
      EDGEBRIDGE_REDIS_PASSWORD: 'redis-pw',
      EDGEBRIDGE_NATS_TOKEN: 'nats-token',
      EDGEBRIDGE_KAFKA_SASL_MECHANISM: 'plain',
      EDGEBRIDGE_KAFKA_SASL_USERNAME: 'user',
      EDGEBRIDGE_KAFKA_SASL_PASSWORD: 'kafka-pw',
      EDGEBRIDGE_REDIS_URL: 'redis://app:url-pw@core:6379/0',
      EDGEBRIDGE_NATS_SERVERS: 'nats://u:nats-pw@n1:4222,nats://n2:4222',
      EDGEBRIDGE_ROUTES: '[{"match":"#","target":"t","key":"{clientId}"}]',
    },
  })
  const masked = maskSecrets(config) as typeof config
  const text = JSON.stringify(masked)
  for (const secret of ['redis-pw', 'nats-token', 'kafka-pw', 'url-pw', 'nats-pw'])
    assert.ok(!text.includes(secret), secret)
  assert.equal(masked.redis.password, '********')
  assert.equal(masked.nats.token, '********')
  assert.equal(masked.kafka.sasl.password, '********')
  assert.equal(masked.nats.password, '', 'an empty secret stays empty')
  assert.equal(masked.kafka.sasl.username, 'user')
  assert.match(masked.redis.url, /^redis:\/\/app:\*+@core:6379\/0$/)
  assert.deepEqual(masked.nats.servers, ['nats://u:********@n1:4222', 'nats://n2:4222'])
  assert.equal(masked.routes[0]?.key, '{clientId}', 'a route key template is not a secret')
  assert.equal(masked.nats.tls.keyFile, '', '*File paths are not secrets')
  assert.equal(config.redis.password, 'redis-pw', 'the original is untouched')
})
