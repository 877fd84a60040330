import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  escapeForNatsSubject,
  isValidPublishSubject,
  mqttFilterToNatsSubject,
  mqttTopicToNatsSubject,
  natsSubjectToMqttTopic,
  NatsSubjectError,
} from '../../src/routing/nats-subject.js'

// Cases from nats-server's own MQTT tests (server/mqtt_test.go, TestMQTTTopicAndSubjectConversion):
// MQTT topic, NATS subject; each must also convert back to the same topic.
const TOPICS: Array<[string, string]> = [
  ['/', '/./'],
  ['//', '/././'],
  ['///', '/./././'],
  ['////', '/././././'],
  ['foo', 'foo'],
  ['/foo', '/.foo'],
  ['//foo', '/./.foo'],
  ['///foo', '/././.foo'],
  ['///foo/', '/././.foo./'],
  ['///foo//', '/././.foo././'],
  ['///foo///', '/././.foo./././'],
  ['//.foo.//', '/././/foo//././'],
  ['foo/bar', 'foo.bar'],
  ['/foo/bar', '/.foo.bar'],
  ['/foo/bar/', '/.foo.bar./'],
  ['foo/bar/baz', 'foo.bar.baz'],
  ['/foo/bar/baz', '/.foo.bar.baz'],
  ['/foo/bar/baz/', '/.foo.bar.baz./'],
  ['bar/', 'bar./'],
  ['bar//', 'bar././'],
  ['bar///', 'bar./././'],
  ['foo//bar', 'foo./.bar'],
  ['foo///bar', 'foo././.bar'],
  ['foo////bar', 'foo./././.bar'],
  ['.', '//'],
  ['..', '////'],
  ['...', '//////'],
  ['./', '//./'],
  ['.//.', '//././/'],
  ['././.', '//.//.//'],
  ['././/.', '//.//././/'],
  ['.foo', '//foo'],
  ['foo.', 'foo//'],
  ['.foo.', '//foo//'],
  ['foo../bar/', 'foo////.bar./'],
  ['foo../bar/.', 'foo////.bar.//'],
  ['/foo/', '/.foo./'],
  ['./foo/.', '//.foo.//'],
  ['foo.bar/baz', 'foo//bar.baz'],
]

test('routing - MQTT topic to NATS subject matches nats-server, and back', () => {
  for (const [topic, subject] of TOPICS) {
    assert.equal(mqttTopicToNatsSubject(topic), subject, `topic ${topic}`)
    assert.equal(natsSubjectToMqttTopic(subject), topic, `subject ${subject}`)
  }
})

test('routing - topics NATS cannot carry are refused', () => {
  assert.throws(() => mqttTopicToNatsSubject('foo bar'), NatsSubjectError)
  assert.throws(() => mqttTopicToNatsSubject('foo\tbar'), NatsSubjectError)
  assert.throws(() => mqttTopicToNatsSubject('foo/+'), /wildcards/)
  assert.throws(() => mqttTopicToNatsSubject('foo/#'), /wildcards/)
  assert.throws(() => mqttTopicToNatsSubject(''), NatsSubjectError)
})

// From nats-server's TestMQTTFilterConversion.
const FILTERS: Array<[string, string]> = [
  ['+', '*'],
  ['/+', '/.*'],
  ['+/', '*./'],
  ['/+/', '/.*./'],
  ['foo/+', 'foo.*'],
  ['foo/+/', 'foo.*./'],
  ['foo/+/bar', 'foo.*.bar'],
  ['foo/+/+', 'foo.*.*'],
  ['foo//+//bar', 'foo./.*./.bar'],
  ['foo///+///bar', 'foo././.*././.bar'],
  ['foo.bar///+///baz', 'foo//bar././.*././.baz'],
  ['#', '>'],
  ['/#', '/.>'],
  ['/foo/#', '/.foo.>'],
  ['foo/#', 'foo.>'],
  ['foo//#', 'foo./.>'],
  ['foo///#', 'foo././.>'],
  ['foo/bar/#', 'foo.bar.>'],
  ['foo/bar.baz/#', 'foo.bar//baz.>'],
]

test('routing - MQTT filter to NATS wildcard subject matches nats-server', () => {
  for (const [filter, subject] of FILTERS) assert.equal(mqttFilterToNatsSubject(filter), subject, filter)
})

test('routing - NATS subjects from core apps map to MQTT topics', () => {
  assert.equal(natsSubjectToMqttTopic('cmd.dev1.set'), 'cmd/dev1/set')
  assert.equal(natsSubjectToMqttTopic('cmd'), 'cmd')
  // A lone '/' inside a token is dropped, as nats-server does.
  assert.equal(natsSubjectToMqttTopic('a/b.c'), 'ab/c')
})

test('routing - values escape into NATS tokens', () => {
  assert.equal(escapeForNatsSubject('dev.1'), 'dev//1')
  assert.equal(escapeForNatsSubject('a/b'), 'a.b')
  assert.equal(escapeForNatsSubject(''), '')
  assert.throws(() => escapeForNatsSubject('a b'), NatsSubjectError)
})

test('routing - publish subjects have no empty tokens and no wildcards', () => {
  assert.equal(isValidPublishSubject('a.b'), true)
  assert.equal(isValidPublishSubject('/./'), true)
  assert.equal(isValidPublishSubject('a..b'), false)
  assert.equal(isValidPublishSubject('.a'), false)
  assert.equal(isValidPublishSubject('a.*'), false)
  assert.equal(isValidPublishSubject('a.>'), false)
  assert.equal(isValidPublishSubject(''), false)
})
