import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  escapeForNatsSubject,
  mqttFilterToNatsSubject,
  mqttTopicToNatsSubject,
  natsSubjectToMqttTopic,
  NatsSubjectError,
  subjectProblem,
} from '../../src/backends/nats/nats-subject.js'

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

test('nats subject - MQTT topic to NATS subject matches nats-server, and back', () => {
  for (const [topic, subject] of TOPICS) {
    assert.equal(mqttTopicToNatsSubject(topic), subject, `topic ${topic}`)
    assert.equal(natsSubjectToMqttTopic(subject), topic, `subject ${subject}`)
  }
})

test('nats subject - topics NATS cannot carry are refused', () => {
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

test('nats subject - MQTT filter to NATS wildcard subject matches nats-server', () => {
  for (const [filter, subject] of FILTERS) assert.equal(mqttFilterToNatsSubject(filter), subject, filter)
})

test('nats subject - NATS subjects from core apps map to MQTT topics', () => {
  assert.equal(natsSubjectToMqttTopic('cmd.dev1.set'), 'cmd/dev1/set')
  assert.equal(natsSubjectToMqttTopic('cmd'), 'cmd')
  // A lone '/' inside a token is dropped, as nats-server does.
  assert.equal(natsSubjectToMqttTopic('a/b.c'), 'ab/c')
})

test('nats subject - values escape into NATS tokens', () => {
  assert.equal(escapeForNatsSubject('dev.1'), 'dev//1')
  assert.equal(escapeForNatsSubject('a/b'), 'a.b')
  assert.equal(escapeForNatsSubject(''), '')
  assert.throws(() => escapeForNatsSubject('a b'), NatsSubjectError)
})

test('nats subject - publish subjects have no empty tokens and no wildcards', () => {
  assert.equal(subjectProblem('a.b', false), undefined)
  assert.equal(subjectProblem('/./', false), undefined)
  assert.equal(subjectProblem('a..b', false) !== undefined, true)
  assert.equal(subjectProblem('.a', false) !== undefined, true)
  assert.equal(subjectProblem('a.*', false) !== undefined, true)
  assert.equal(subjectProblem('a.>', false) !== undefined, true)
  assert.equal(subjectProblem('', false) !== undefined, true)
})

test('nats subject - one rule on characters for subjects, filters and prefixes: no whitespace, no control character', () => {
  for (const bad of ['a b', 'a\tb', 'a\u0000b', 'a\u0007b', 'a\u001fb', 'a\u007fb']) {
    assert.match(subjectProblem(bad, false) ?? '', /whitespace or control/, JSON.stringify(bad))
    assert.match(subjectProblem(bad, true) ?? '', /whitespace or control/, JSON.stringify(bad))
    assert.throws(() => escapeForNatsSubject(bad), NatsSubjectError)
  }
  assert.equal(subjectProblem('a.*.>', true), undefined)
  assert.match(subjectProblem('a.>.b', true) ?? '', /only as the last token/)
})
