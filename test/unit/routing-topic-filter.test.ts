import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compileTopicFilter, topicFilterProblem, topicNameProblem } from '../../src/routing/topic-filter.js'

test('routing - valid topic filters are accepted', () => {
  for (const f of [
    '#',
    '+',
    'a',
    'a/b',
    'a/+',
    'a/#',
    '+/+',
    '+/a/#',
    '/',
    '//',
    '/a',
    'a/',
    'sport/tennis/+',
    '$SYS/#',
  ]) {
    assert.equal(topicFilterProblem(f), undefined, f)
  }
})

test('routing - invalid topic filters are refused with the MQTT rule they break', () => {
  assert.match(topicFilterProblem('') ?? '', /empty/) // [MQTT-4.7.3-1]
  assert.match(topicFilterProblem('a/#/b') ?? '', /last level/) // [MQTT-4.7.1-2]
  assert.match(topicFilterProblem('a#') ?? '', /whole level/) // [MQTT-4.7.1-2]
  assert.match(topicFilterProblem('a/b#') ?? '', /whole level/)
  assert.match(topicFilterProblem('a+') ?? '', /whole level/) // [MQTT-4.7.1-3]
  assert.match(topicFilterProblem('a/+b/c') ?? '', /whole level/)
  assert.match(topicFilterProblem('a\u0000b') ?? '', /null/) // [MQTT-4.7.3-2]
  assert.throws(() => compileTopicFilter('a/#/b'), TypeError)
})

test('routing - topic names refuse wildcards and emptiness', () => {
  assert.equal(topicNameProblem('a/b'), undefined)
  assert.match(topicNameProblem('a/+') ?? '', /wildcards/)
  assert.match(topicNameProblem('a/#') ?? '', /wildcards/)
  assert.match(topicNameProblem('') ?? '', /empty/)
})

test('routing - + matches exactly one level and captures it', () => {
  const f = compileTopicFilter('sensors/+/temp')
  assert.deepEqual(f.match('sensors/dev1/temp'), ['dev1'])
  assert.deepEqual(f.match('sensors//temp'), [''])
  assert.equal(f.match('sensors/dev1/x/temp'), undefined)
  assert.equal(f.match('sensors/temp'), undefined)
  assert.equal(f.wildcards, 1)
})

test('routing - # matches the rest, joined by /, including the parent level', () => {
  const f = compileTopicFilter('sport/#')
  assert.deepEqual(f.match('sport/tennis/player1'), ['tennis/player1'])
  assert.deepEqual(f.match('sport/tennis'), ['tennis'])
  assert.deepEqual(f.match('sport/'), [''])
  assert.deepEqual(f.match('sport'), [''])
  assert.equal(f.match('sports'), undefined)
  assert.deepEqual(compileTopicFilter('#').match('a/b/c'), ['a/b/c'])
})

test('routing - captures come in filter order across + and #', () => {
  const f = compileTopicFilter('+/x/+/#')
  assert.deepEqual(f.match('a/x/b/c/d'), ['a', 'b', 'c/d'])
  assert.equal(f.wildcards, 3)
})

test('routing - exact filters match only the same topic', () => {
  const f = compileTopicFilter('a/b')
  assert.deepEqual(f.match('a/b'), [])
  assert.equal(f.match('a/b/'), undefined)
  assert.equal(f.match('/a/b'), undefined)
  assert.equal(f.match('A/b'), undefined)
})

test('routing - $ topics do not match filters starting with a wildcard', () => {
  // [MQTT-4.7.2-1]
  assert.equal(compileTopicFilter('#').match('$SYS/broker'), undefined)
  assert.equal(compileTopicFilter('+/broker').match('$SYS/broker'), undefined)
  assert.deepEqual(compileTopicFilter('$SYS/#').match('$SYS/broker'), ['broker'])
  assert.deepEqual(compileTopicFilter('a/+').match('a/$b'), ['$b'])
})
