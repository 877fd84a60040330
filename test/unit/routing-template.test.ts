import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compileTemplate, templateProblem } from '../../src/routing/template.js'

const ctx = { topic: 'site/dev1/temp', captures: ['dev1', 'temp'], clientId: 'c-1', username: 'alice' }

test('routing - template renders every placeholder', () => {
  assert.equal(compileTemplate('{topic}').render(ctx), 'site/dev1/temp')
  assert.equal(compileTemplate('t.{1}.{2}').render(ctx), 't.dev1.temp')
  assert.equal(compileTemplate('{clientId}:{username}').render(ctx), 'c-1:alice')
  assert.equal(compileTemplate('{2}{1}').render(ctx), 'tempdev1')
})

test('routing - template without placeholders is static', () => {
  const t = compileTemplate('edgebridge.ingest')
  assert.equal(t.isStatic, true)
  assert.equal(t.render(ctx), 'edgebridge.ingest')
})

test('routing - empty username renders as an empty string', () => {
  assert.equal(compileTemplate('u-{username}-').render({ ...ctx, username: '' }), 'u--')
})

test('routing - escape applies to substituted values only', () => {
  const t = compileTemplate('a.b/{1}')
  assert.equal(
    t.render({ ...ctx, captures: ['x.y'] }, (v) => v.toUpperCase()),
    'a.b/X.Y',
  )
})

test('routing - unknown placeholders are refused with the list of known ones', () => {
  assert.match(templateProblem('{device}') ?? '', /unknown placeholder \{device\}.*\{topic\}/)
  assert.match(templateProblem('{0}') ?? '', /unknown placeholder \{0\}/)
  assert.match(templateProblem('{clientid}') ?? '', /unknown placeholder/)
  assert.throws(() => compileTemplate('{nope}'), TypeError)
})

test('routing - unbalanced braces are refused', () => {
  assert.match(templateProblem('a{topic') ?? '', /unmatched '\{'/)
  assert.match(templateProblem('a}b') ?? '', /unmatched '\}'/)
})

test('routing - a capture beyond the filter wildcards is refused', () => {
  assert.equal(templateProblem('{1}.{2}', 2), undefined)
  assert.match(templateProblem('{3}', 2) ?? '', /wildcard 3 but the filter has only 2/)
  assert.match(templateProblem('{1}', 0) ?? '', /no wildcards/)
})
