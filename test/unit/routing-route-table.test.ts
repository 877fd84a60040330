import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRouter } from '../../src/routing/route-table.js'
import { testConfig } from '../support/config.js'

test('routing - redis default route is prefix + topic, raw codec, no key', () => {
  const r = createRouter(testConfig({ core: { backend: 'redis' }, redis: { prefix: 'mqtt:' } }))
  assert.deepEqual(r.route({ topic: 'site/dev1/temp', clientId: 'dev1' }), {
    name: 'default',
    target: 'mqtt:site/dev1/temp',
    codec: 'raw',
  })
  const s = createRouter(testConfig({ core: { backend: 'redis-streams' } }))
  assert.deepEqual(s.route({ topic: 'a/b', clientId: 'c' }), { name: 'default', target: 'a/b', codec: 'raw' })
})

test('routing - nats default route is the nats-server subject of the topic, with the prefix', () => {
  const r = createRouter(testConfig({ core: { backend: 'nats' } }))
  assert.equal(r.route({ topic: 'site/dev.1/temp', clientId: 'c' })?.target, 'site.dev//1.temp')
  assert.equal(r.route({ topic: '/lead', clientId: 'c' })?.target, '/.lead')
  const p = createRouter(testConfig({ core: { backend: 'jetstream' }, nats: { subjectPrefix: 'edge' } }))
  assert.deepEqual(p.route({ topic: 'a/b', clientId: 'c' }), {
    name: 'default',
    target: 'edge.a.b',
    codec: 'raw',
  })
})

test('routing - nats refuses topics it cannot carry', () => {
  const r = createRouter(testConfig({ core: { backend: 'nats' } }))
  assert.equal(r.route({ topic: 'a b/c', clientId: 'c' }), undefined)
  assert.equal(r.route({ topic: 'a/*', clientId: 'c' }), undefined)
})

test('routing - kafka default route is the static topic keyed by client id', () => {
  const r = createRouter(testConfig({ core: { backend: 'kafka' }, kafka: { topic: 'edge.in' } }))
  assert.deepEqual(r.route({ topic: 'a/b', clientId: 'dev-7' }), {
    name: 'default',
    target: 'edge.in',
    key: 'dev-7',
    codec: 'raw',
  })
})

test('routing - the first matching route wins', () => {
  const r = createRouter(
    testConfig({
      core: { backend: 'kafka' },
      routes: [
        { match: 'alarms/#', target: 'alarms', codec: 'json', name: 'alarms' },
        { match: 'alarms/fire', target: 'never' },
        { match: '+/telemetry', target: 'telemetry', key: '{1}' },
      ],
    }),
  )
  assert.deepEqual(r.route({ topic: 'alarms/fire', clientId: 'c' }), {
    name: 'alarms',
    target: 'alarms',
    key: 'c',
    codec: 'json',
  })
  // A route without a name is labelled by its place in the list.
  assert.deepEqual(r.route({ topic: 'dev9/telemetry', clientId: 'c' }), {
    name: 'route-2',
    target: 'telemetry',
    key: 'dev9',
    codec: 'raw',
  })
})

test('routing - no matching route gives undefined', () => {
  const r = createRouter(testConfig({ routes: [{ match: 'only/this', target: 'x' }] }))
  assert.equal(r.route({ topic: 'other', clientId: 'c' }), undefined)
  assert.equal(r.route({ topic: 'only/this', clientId: 'c' })?.target, 'x')
})

test('routing - nats templates escape substituted values into tokens', () => {
  const r = createRouter(
    testConfig({
      core: { backend: 'nats' },
      nats: { subjectPrefix: 'gw' },
      routes: [{ match: 'devices/+/#', target: 'dev.{clientId}.{1}.{2}' }],
    }),
  )
  assert.equal(r.route({ topic: 'devices/s.1/a/b', clientId: 'id.7' })?.target, 'gw.dev.id//7.s//1.a.b')
  assert.equal(r.route({ topic: 'devices/x/y', clientId: 'a b' }), undefined)
})

test('routing - templates use username, empty when the client gave none', () => {
  const r = createRouter(testConfig({ routes: [{ match: '#', target: 'u:{username}:{topic}' }] }))
  assert.equal(r.route({ topic: 't', clientId: 'c', username: 'bob' })?.target, 'u:bob:t')
  assert.equal(r.route({ topic: 't', clientId: 'c' })?.target, 'u::t')
})

test('routing - kafka targets Kafka would refuse are no route', () => {
  const r = createRouter(
    testConfig({ core: { backend: 'kafka' }, routes: [{ match: '#', target: 'in.{topic}' }] }),
  )
  assert.equal(r.route({ topic: 'ok-name', clientId: 'c' })?.target, 'in.ok-name')
  assert.equal(r.route({ topic: 'a/b', clientId: 'c' }), undefined)
})

test('routing - $ topics skip wildcard-first routes', () => {
  const r = createRouter(testConfig({ routes: [{ match: '#', target: 'all' }] }))
  assert.equal(r.route({ topic: '$SYS/x', clientId: 'c' }), undefined)
})
