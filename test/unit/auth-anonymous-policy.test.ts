import assert from 'node:assert/strict'
import { test } from 'node:test'
import { anonymousPolicy, configuredCredentials } from '../../src/ingress/auth/anonymous-policy.js'
import { listenerConfig } from '../support/security-broker.js'

const noPasswords = { security: { passwordFile: '' } } as const
const withPasswords = { security: { passwordFile: '/etc/edgebridge/passwd' } } as const
const loopback = listenerConfig({ host: '127.0.0.1' })
const site = listenerConfig({ host: '0.0.0.0' })
const mtls = listenerConfig({ type: 'tls', host: '0.0.0.0', tls: { requireCertificate: true } })

const decide = (config: typeof noPasswords | typeof withPasswords, listeners: (typeof loopback)[]) => {
  const credentials = configuredCredentials(config as never, listeners)
  return listeners.map((l) => anonymousPolicy(l, credentials).allowAnonymous)
}

test('auth - without credentials, anonymous clients are allowed on loopback only', () => {
  assert.deepEqual(decide(noPasswords, [loopback, site]), [true, false])
})

test('auth - a password file refuses anonymous clients on every listener that does not say otherwise', () => {
  assert.deepEqual(decide(withPasswords, [loopback, site]), [false, false])
  assert.equal(
    anonymousPolicy(loopback, configuredCredentials(withPasswords as never, [loopback])).reason,
    'a password file is configured',
  )
})

test('auth - a listener that requires client certificates counts as credentials for every listener', () => {
  assert.deepEqual(decide(noPasswords, [loopback, mtls]), [false, false])
})

test('auth - allowAnonymous set on a listener wins, both ways', () => {
  const openLoopback = listenerConfig({ host: '127.0.0.1', allowAnonymous: true })
  const closedLoopback = listenerConfig({ host: '127.0.0.1', allowAnonymous: false })
  const openSite = listenerConfig({ host: '0.0.0.0', allowAnonymous: true })
  assert.deepEqual(decide(withPasswords, [openLoopback, openSite]), [true, true])
  assert.deepEqual(decide(noPasswords, [closedLoopback]), [false])
})
