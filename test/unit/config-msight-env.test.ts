import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError } from '../../src/errors.js'
import { loadConfig } from '../../src/config/index.js'
import { parsePythonList } from '../../src/config/msight-env.js'

const load = (env: NodeJS.ProcessEnv) => loadConfig({ env, argv: [] })

test('config - MSight lists parse in every Python spelling', () => {
  assert.deepEqual(parsePythonList("['nats://localhost:4222']"), ['nats://localhost:4222'])
  assert.deepEqual(parsePythonList('["nats://localhost:4222"]'), ['nats://localhost:4222'])
  assert.deepEqual(parsePythonList(' [ \'a:1\' , "b:2", ] '), ['a:1', 'b:2'])
  assert.deepEqual(parsePythonList('[a:1, b:2]'), ['a:1', 'b:2'])
  assert.deepEqual(parsePythonList('localhost:9092'), ['localhost:9092'])
  assert.deepEqual(parsePythonList("'localhost:9092'"), ['localhost:9092'])
})

test('config - malformed MSight lists are refused with the reason', () => {
  for (const bad of ['', '[]', "['a:1'", "['a:1]", "['a:1' 'b:2']", '[,]', "a:1']", "['a', , 'b']"]) {
    assert.throws(() => parsePythonList(bad), Error, bad)
  }
})

test('config - MSIGHT_* variables set the backend and servers', () => {
  const nats = load({
    MSIGHT_PUBSUB_BACKEND: 'nats',
    MSIGHT_NATS_SERVERS: "['nats://n1:4222', 'nats://n2:4222']",
  })
  assert.equal(nats.core.backend, 'nats')
  assert.deepEqual(nats.nats.servers, ['nats://n1:4222', 'nats://n2:4222'])
  const kafka = load({ MSIGHT_PUBSUB_BACKEND: 'Kafka', MSIGHT_KAFKA_SERVERS: "['localhost:9092']" })
  assert.equal(kafka.core.backend, 'kafka')
  assert.deepEqual(kafka.kafka.brokers, ['localhost:9092'])
  assert.equal(load({ MSIGHT_PUBSUB_BACKEND: 'redis' }).core.backend, 'redis')
})

test('config - EDGEBRIDGE_* wins over MSIGHT_*', () => {
  const c = load({
    MSIGHT_PUBSUB_BACKEND: 'nats',
    EDGEBRIDGE_BACKEND: 'kafka',
    MSIGHT_KAFKA_SERVERS: "['m:9092']",
    EDGEBRIDGE_KAFKA_BROKERS: 'e:9092',
    MSIGHT_NATS_SERVERS: "['nats://m:4222']",
    EDGEBRIDGE_NATS_SERVERS: 'nats://e:4222',
  })
  assert.equal(c.core.backend, 'kafka')
  assert.deepEqual(c.kafka.brokers, ['e:9092'])
  assert.deepEqual(c.nats.servers, ['nats://e:4222'])
})

test('config - a malformed MSight variable is a ConfigError naming it', () => {
  assert.throws(
    () => load({ MSIGHT_NATS_SERVERS: "['nats://localhost:4222'" }),
    (err: unknown) =>
      err instanceof ConfigError &&
      /^MSIGHT_NATS_SERVERS: "\['nats:\/\/localhost:4222'" is not valid: must be a Python-style list/.test(
        err.message,
      ),
  )
  assert.throws(
    () => load({ MSIGHT_KAFKA_SERVERS: '[]' }),
    (err: unknown) =>
      err instanceof ConfigError && err.message.startsWith('MSIGHT_KAFKA_SERVERS: "[]" is not valid'),
  )
  assert.throws(
    () => load({ MSIGHT_PUBSUB_BACKEND: 'zeromq' }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.message.startsWith('MSIGHT_PUBSUB_BACKEND: "zeromq" is not valid: must be one of'),
  )
  // A well-formed list of bad servers is caught by the schema, under the key it sets.
  assert.throws(
    () => load({ MSIGHT_KAFKA_SERVERS: "['nohost']" }),
    (err: unknown) =>
      err instanceof ConfigError && err.message.startsWith('kafka.brokers: ["nohost"] is not valid'),
  )
})
