/** requests.* in the configuration and the request templates: defaults, parsing, and clear errors. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError } from '../../src/errors.js'
import { loadConfig } from '../../src/config/index.js'
import { compileRequestRules } from '../../src/requests/request-rules.js'
import { compileAnswerTopic, levelProblem } from '../../src/requests/request-templates.js'

const load = (env: NodeJS.ProcessEnv) => loadConfig({ env, argv: [] })
const withRules = (backend: string, rules: unknown) =>
  load({
    EDGEBRIDGE_BACKEND: backend,
    EDGEBRIDGE_REQUESTS_ENABLED: 'true',
    EDGEBRIDGE_REQUESTS_RULES: JSON.stringify(rules),
  })

function rejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`)
    assert.match(err.message, message)
    return true
  })
}

test('requests config - off by default; the default convention is edgebridge/<device>/req|res/...', () => {
  const c = load({})
  assert.equal(c.requests.enabled, false)
  assert.equal(c.requests.timeoutMs, 10_000)
  const [rule] = compileRequestRules(withRules('nats', [{ source: 'edgebridge.req.*.*' }]))
  assert.ok(rule !== undefined)
  const fields = { captures: ['d1', 'reboot'], key: '', headers: {} }
  assert.equal(rule.device.render(fields), 'd1')
  assert.equal(rule.method.render(fields), 'reboot')
  assert.equal(rule.topic.render({ device: 'd1', method: 'reboot', id: 'x1' }), 'edgebridge/d1/req/reboot/x1')
  assert.equal(rule.answer.filter, 'edgebridge/+/res/+/+')
  assert.deepEqual(rule.answer.parse('edgebridge/d1/res/200/x1'), { device: 'd1', status: '200', id: 'x1' })
  assert.equal(rule.answer.parse('edgebridge/d1/res/200'), undefined)
  assert.equal(rule.answer.parse('edgebridge/d1/req/200/x1'), undefined)
  assert.equal(rule.timeoutMs, 10_000)
})

test('requests config - Kafka reads the device from the key and the method from a header', () => {
  const [rule] = compileRequestRules(withRules('kafka', [{ source: 'commands', timeoutMs: 500 }]))
  const fields = { captures: [], key: 'd7', headers: { method: 'read' } }
  assert.equal(rule?.device.render(fields), 'd7')
  assert.equal(rule?.method.render(fields), 'read')
  assert.equal(rule?.timeoutMs, 500)
})

test('requests config - bad rules name the key and the value', () => {
  rejects(() => withRules('nats', [{ source: 'a', reply: 'x' }]), /requests\.rules\[0\]\.reply/)
  rejects(
    () => withRules('nats', [{ source: 'a', topic: 'dev/{device}/req' }]),
    /requests\.rules\[0\]\.topic.*\{id\}/,
  )
  rejects(
    () => withRules('nats', [{ source: 'a', answerTopic: 'dev/{device}-x/res/{status}/{id}' }]),
    /whole topic level/,
  )
  rejects(
    () => withRules('nats', [{ source: 'a', answerTopic: 'dev/{device}/res/{id}' }]),
    /needs \{status\}/,
  )
  rejects(() => withRules('nats', [{ source: 'a', timeoutMs: 0 }]), /timeoutMs/)
  rejects(() => withRules('nats', [{ source: 'a.*', device: '{2}' }]), /wildcard 2/)
  rejects(() => withRules('nats', [{ source: 'a..b' }]), /requests\.rules\[0\]\.source/)
  rejects(() => withRules('nats', [{ source: 'a' }, { source: 'a' }]), /one rule per source/)
})

test('requests - device ids, methods and ids must be one topic level', () => {
  assert.equal(levelProblem('d1'), undefined)
  for (const bad of ['', 'a/b', 'a+', '#', 'a\u0000']) assert.notEqual(levelProblem(bad), undefined, bad)
  assert.throws(() => compileAnswerTopic('x/{status}/+/{id}'), /wildcards/)
})
