/** Downlink topic mapping: source wildcards, default topics per backend, templates, own echoes. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { DownlinkMessage } from '../../src/backends/backend.js'
import type { BackendName, EdgebridgeConfig } from '../../src/config/types.js'
import { descriptorOf } from '../../src/backends/registry.js'
import { isOwnEcho } from '../../src/downlink/own-echo.js'
import { compileTopicTemplate } from '../../src/downlink/topic-template.js'
import { testConfig } from '../support/config.js'

const msg = (subject: string, extra: Partial<DownlinkMessage> = {}): DownlinkMessage => ({
  source: subject,
  subject,
  payload: Buffer.from('x'),
  ...extra,
})
const defaultTopic = (config: EdgebridgeConfig, message: DownlinkMessage): string =>
  descriptorOf(config.core.backend).mqttTopic(message, config)
const compileSource = (backend: BackendName, source: string) => descriptorOf(backend).compileSource(source)
const configFor = (backend: BackendName, redisPrefix = '', natsPrefix = '') =>
  testConfig({ core: { backend }, redis: { prefix: redisPrefix }, nats: { subjectPrefix: natsPrefix } })

test('downlink mapping - a NATS subject maps back the way nats-server maps it to MQTT', () => {
  const c = configFor('nats')
  assert.equal(defaultTopic(c, msg('commands.device1.reboot')), 'commands/device1/reboot')
  assert.equal(defaultTopic(c, msg('cmd.v1//2.x')), 'cmd/v1.2/x') // '//' is an escaped '.'
  assert.equal(defaultTopic(c, msg('/.cmd')), '/cmd') // '/' token is an empty level
  assert.equal(defaultTopic(configFor('jetstream'), msg('a.b')), 'a/b')
})

test('downlink mapping - the NATS subject prefix is taken off, as the uplink adds it', () => {
  const c = configFor('nats', '', 'site1')
  assert.equal(defaultTopic(c, msg('site1.commands.d1')), 'commands/d1')
  assert.equal(defaultTopic(c, msg('other.commands.d1')), 'other/commands/d1')
})

test('downlink mapping - a Redis channel is the topic, less redis.prefix', () => {
  assert.equal(defaultTopic(configFor('redis', 'gw1/'), msg('gw1/commands/d1')), 'commands/d1')
  assert.equal(defaultTopic(configFor('redis', 'gw1/'), msg('commands/d1')), 'commands/d1')
  assert.equal(defaultTopic(configFor('redis'), msg('cmd:d1')), 'cmd:d1')
})

test("downlink mapping - a Redis stream entry's mqtt.topic field wins over the stream key", () => {
  const c = configFor('redis-streams', 'gw1/')
  assert.equal(
    defaultTopic(c, msg('gw1/commands', { headers: { 'mqtt.topic': 'commands/d7/reboot' } })),
    'commands/d7/reboot',
  )
  assert.equal(defaultTopic(c, msg('gw1/commands')), 'commands')
})

test('downlink mapping - Kafka: the mqtt.topic header, else <topic>/<key>, else the topic', () => {
  const c = configFor('kafka')
  assert.equal(
    defaultTopic(c, msg('commands', { headers: { 'mqtt.topic': 'dev/d1/set' }, key: 'd1' })),
    'dev/d1/set',
  )
  assert.equal(defaultTopic(c, msg('commands', { key: 'd1' })), 'commands/d1')
  assert.equal(defaultTopic(c, msg('commands')), 'commands')
})

test('downlink mapping - NATS wildcards capture tokens in MQTT form', () => {
  const p = compileSource('nats', 'commands.*.>')
  assert.equal(p.captures, 2)
  assert.deepEqual(p.match('commands.d1.set.led'), ['d1', 'set/led'])
  assert.deepEqual(p.match('commands.v1//2.x'), ['v1.2', 'x'])
  assert.equal(p.match('commands.d1'), undefined) // '>' needs at least one token
  assert.equal(p.match('other.d1.x'), undefined)
  assert.deepEqual(compileSource('nats', 'a.*').match('a.b'), ['b'])
  assert.equal(compileSource('nats', 'a.*').match('a.b.c'), undefined)
})

test('downlink mapping - Redis glob wildcards capture what they matched', () => {
  const p = compileSource('redis', 'cmd:*:?:[ab]')
  assert.equal(p.captures, 3)
  assert.deepEqual(p.match('cmd:dev/1:x:b'), ['dev/1', 'x', 'b'])
  assert.equal(p.match('cmd:dev:x:c'), undefined)
  assert.deepEqual(compileSource('redis', 'a\\*b.*').match('a*b.c'), ['c'])
  assert.equal(compileSource('redis', 'a\\*b').match('axb'), undefined)
  assert.deepEqual(compileSource('redis', 'x[^0-9]').match('xa'), ['a'])
})

test('downlink mapping - Kafka topics and stream keys match exactly, with no captures', () => {
  assert.deepEqual(compileSource('kafka', 'commands').match('commands'), [])
  assert.equal(compileSource('redis-streams', 'cmds').match('cmds2'), undefined)
})

test('downlink mapping - a template renders {topic}, captures and {key}', () => {
  const t = compileTopicTemplate('devices/{1}/{key}/{topic}', 1)
  assert.equal(t.render({ topic: 'a/b', captures: ['d1'], key: 'k' }), 'devices/d1/k/a/b')
  assert.throws(() => compileTopicTemplate('x/{2}', 1), /refers to wildcard 2/)
  assert.throws(() => compileTopicTemplate('x/{username}'), /unknown placeholder/)
})

test("downlink mapping - this gateway's own uplink messages are recognised as echoes", () => {
  assert.equal(isOwnEcho(msg('a', { headers: { 'gateway.id': 'gw1' } }), 'gw1'), true)
  assert.equal(isOwnEcho(msg('a', { headers: { 'gateway.id': 'gw2' } }), 'gw1'), false)
  assert.equal(isOwnEcho(msg('a'), 'gw1'), false)
})
