/** What a backend can carry and how it names things, checked at load: one line per problem, naming the backend. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError } from '../../src/errors.js'
import { loadConfig } from '../../src/config/index.js'

const load = (env: NodeJS.ProcessEnv) => loadConfig({ env, argv: [] })

function rejects(env: NodeJS.ProcessEnv, ...fragments: RegExp[]): void {
  assert.throws(
    () => load(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`)
      assert.ok(!err.message.includes('\n'), 'one line')
      for (const f of fragments) assert.match(err.message, f)
      return true
    },
  )
}

const routes = (r: unknown) => JSON.stringify(r)

test('config backend rules - an envelope codec loads on kafka and is refused on every backend that carries the raw payload only', () => {
  for (const codec of ['json', 'msgpack', 'cloudevents']) {
    const env = { EDGEBRIDGE_ROUTES: routes([{ match: '#', target: 'x', codec }]) }
    assert.equal(load({ ...env, EDGEBRIDGE_BACKEND: 'kafka' }).routes[0]!.codec, codec)
    for (const backend of ['redis', 'redis-streams', 'nats', 'jetstream'])
      rejects(
        { ...env, EDGEBRIDGE_BACKEND: backend },
        new RegExp(`routes\\[0\\]\\.codec: "${codec}"`),
        new RegExp(`core\\.backend is ${backend}\\)`),
      )
  }
  assert.equal(
    load({ EDGEBRIDGE_ROUTES: routes([{ match: '#', target: 'x', codec: 'raw' }]) }).routes.length,
    1,
  )
})

test('config backend rules - one Kafka topic check: "." and ".." are refused as kafka.topic, route target and downlink source', () => {
  for (const name of ['.', '..', 'a b', 'x'.repeat(250)]) {
    rejects({ EDGEBRIDGE_BACKEND: 'kafka', EDGEBRIDGE_KAFKA_TOPIC: name }, /kafka\.topic/)
    rejects(
      { EDGEBRIDGE_BACKEND: 'kafka', EDGEBRIDGE_ROUTES: routes([{ match: '#', target: name }]) },
      /routes\[0\]\.target/,
      /Kafka topic name/,
    )
    rejects(
      {
        EDGEBRIDGE_BACKEND: 'kafka',
        EDGEBRIDGE_DOWNLINK_ENABLED: 'true',
        EDGEBRIDGE_DOWNLINK_RULES: JSON.stringify([{ source: name }]),
      },
      /downlink\.rules\[0\]\.source/,
      /Kafka topic name/,
    )
  }
  assert.equal(load({ EDGEBRIDGE_BACKEND: 'kafka', EDGEBRIDGE_KAFKA_TOPIC: '...' }).kafka.topic, '...')
})

test('config backend rules - one NATS subject check: a control character is refused in the prefix, stream subjects, a route target and a downlink source', () => {
  for (const bad of ['a\u0001b', 'a\u007fb', 'a\tb']) {
    rejects(
      { EDGEBRIDGE_BACKEND: 'nats', EDGEBRIDGE_NATS_SUBJECT_PREFIX: bad },
      /nats\.subjectPrefix/,
      /control/,
    )
    rejects(
      { EDGEBRIDGE_BACKEND: 'jetstream', EDGEBRIDGE_NATS_STREAM_SUBJECTS: bad },
      /nats\.stream\.subjects/,
      /control/,
    )
    rejects(
      { EDGEBRIDGE_BACKEND: 'nats', EDGEBRIDGE_ROUTES: routes([{ match: '#', target: bad }]) },
      /routes\[0\]\.target/,
      /control/,
    )
    rejects(
      {
        EDGEBRIDGE_BACKEND: 'nats',
        EDGEBRIDGE_DOWNLINK_ENABLED: 'true',
        EDGEBRIDGE_DOWNLINK_RULES: JSON.stringify([{ source: `cmd.${bad}` }]),
      },
      /downlink\.rules\[0\]\.source/,
      /control/,
    )
  }
})

test('config backend rules - a static route target is checked with the prefix the backend adds', () => {
  rejects(
    {
      EDGEBRIDGE_BACKEND: 'nats',
      EDGEBRIDGE_NATS_SUBJECT_PREFIX: 'edge',
      EDGEBRIDGE_ROUTES: routes([{ match: '#', target: 'a.*' }]),
    },
    /routes\[0\]\.target: "a\.\*"/,
    /with the prefix: "edge\.a\.\*"/,
  )
  // Redis takes any channel name; a template is checked per message by the router instead.
  assert.equal(load({ EDGEBRIDGE_ROUTES: routes([{ match: '#', target: 'a..b' }]) }).routes.length, 1)
  assert.equal(
    load({ EDGEBRIDGE_BACKEND: 'nats', EDGEBRIDGE_ROUTES: routes([{ match: '#', target: 'a.{topic}' }]) })
      .routes.length,
    1,
  )
})

test('config backend rules - a backend checks the settings only it needs: a JetStream stream created at start must capture subjects', () => {
  const env = { EDGEBRIDGE_NATS_STREAM_CREATE: 'true' }
  rejects({ ...env, EDGEBRIDGE_BACKEND: 'jetstream' }, /nats\.stream\.subjects: \[\]/)
  assert.equal(load({ ...env, EDGEBRIDGE_BACKEND: 'nats' }).core.backend, 'nats')
  assert.deepEqual(
    load({ ...env, EDGEBRIDGE_BACKEND: 'jetstream', EDGEBRIDGE_NATS_SUBJECT_PREFIX: 'edge' }).nats.stream
      .subjects,
    ['edge.>'],
  )
})
