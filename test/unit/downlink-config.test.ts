/** downlink.* in the configuration: defaults, and a clear ConfigError for each kind of bad rule. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError } from '../../src/errors.js'
import { loadConfig } from '../../src/config/index.js'

const load = (env: NodeJS.ProcessEnv) => loadConfig({ env, argv: [] })
const withRules = (backend: string, rules: unknown) =>
  load({
    EDGEBRIDGE_BACKEND: backend,
    EDGEBRIDGE_DOWNLINK_ENABLED: 'true',
    EDGEBRIDGE_DOWNLINK_RULES: JSON.stringify(rules),
  })

function rejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`)
    assert.match(err.message, message)
    assert.ok(!err.message.includes('\n'), 'one line')
    return true
  })
}

test('downlink config - off by default, with no rules', () => {
  const c = load({})
  assert.equal(c.downlink.enabled, false)
  assert.deepEqual(c.downlink.rules, [])
})

test('downlink config - rules load from JSON in the environment', () => {
  const c = withRules('nats', [
    { source: 'commands.>' },
    { source: 'ops.*.reboot', topic: 'ops/{1}/reboot', qos: 2, retain: true },
  ])
  assert.equal(c.downlink.enabled, true)
  assert.deepEqual(c.downlink.rules[1], {
    source: 'ops.*.reboot',
    topic: 'ops/{1}/reboot',
    qos: 2,
    retain: true,
  })
})

test('downlink config - a rule with an unknown key, an empty source or a bad qos names the key and the value', () => {
  rejects(
    () => withRules('nats', [{ source: 'a', target: 'x' }]),
    /downlink\.rules\[0\]\.target: "x" is not valid/,
  )
  rejects(
    () => withRules('nats', [{ source: '' }]),
    /downlink\.rules\[0\]\.source: "" is not valid: must be a non-empty name/,
  )
  rejects(
    () => withRules('nats', [{ source: 'a', qos: 3 }]),
    /downlink\.rules\[0\]\.qos: 3 is not valid: must be 0, 1 or 2/,
  )
  rejects(() => withRules('nats', [{ source: 'a', retain: 'yes' }]), /downlink\.rules\[0\]\.retain/)
  rejects(() => withRules('nats', {}), /downlink\.rules/)
})

test('downlink config - a topic template must parse, and a static topic must be a topic name', () => {
  rejects(
    () => withRules('nats', [{ source: 'a', topic: 'x/{clientId}' }]),
    /unknown placeholder \{clientId\}/,
  )
  rejects(() => withRules('nats', [{ source: 'a', topic: 'x/{1' }]), /unmatched '\{'/)
  rejects(
    () => withRules('nats', [{ source: 'a', topic: 'x/+/y' }]),
    /must be a valid topic name: it must not contain wildcards/,
  )
})

test('downlink config - the source is checked in the syntax of core.backend', () => {
  rejects(
    () => withRules('nats', [{ source: 'commands..x' }]),
    /downlink\.rules\[0\]\.source: "commands\.\.x".*core\.backend is nats/,
  )
  rejects(() => withRules('jetstream', [{ source: 'a.>.b' }]), /'>' only as the last token/)
  rejects(() => withRules('nats', [{ source: 'a b' }]), /whitespace/)
  rejects(() => withRules('kafka', [{ source: 'commands.*' }]), /must be a Kafka topic name/)
  // A Redis channel pattern may be anything non-empty.
  assert.equal(withRules('redis', [{ source: 'cmd:[a-z]*' }]).downlink.rules.length, 1)
})

test('downlink config - a template capture the source cannot fill is refused', () => {
  rejects(
    () => withRules('nats', [{ source: 'ops.*.reboot', topic: 'ops/{2}' }]),
    /\{2\} refers to wildcard 2 but the source has only 1/,
  )
  rejects(() => withRules('kafka', [{ source: 'commands', topic: 'c/{1}' }]), /the source has no wildcards/)
  assert.equal(withRules('redis', [{ source: 'cmd:*:?', topic: 'c/{1}/{2}' }]).downlink.rules.length, 1)
})

test('downlink config - two rules with the same source are refused', () => {
  rejects(
    () => withRules('nats', [{ source: 'a.>' }, { source: 'a.>', topic: 'b' }]),
    /differ from downlink\.rules\[0\]\.source/,
  )
})

test('downlink config - rules are not checked against the backend while the downlink is off', () => {
  const c = load({
    EDGEBRIDGE_BACKEND: 'kafka',
    EDGEBRIDGE_DOWNLINK_RULES: JSON.stringify([{ source: 'a.*' }]),
  })
  assert.equal(c.downlink.enabled, false)
})
