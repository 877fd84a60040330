/** The Downlink between a backend's subscription and the broker, with a stand-in backend and broker. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Backend, DownlinkHandler } from '../../src/backends/backend.js'
import { Downlink } from '../../src/downlink/downlink.js'
import { silentLogger } from '../../src/observability/logger.js'
import { testConfig } from '../support/config.js'

function fakeBackend(subscribe?: Backend['subscribe']): Backend {
  return {
    name: 'nats',
    connect: async () => undefined,
    send: async () => undefined,
    isConnected: () => true,
    close: async () => undefined,
    ...(subscribe === undefined ? {} : { subscribe }),
  }
}

function setup(options: { enabled?: boolean; fail?: boolean; subscribeFails?: boolean } = {}) {
  const calls: { sources: readonly string[]; groupId: string }[] = []
  let handler: DownlinkHandler | undefined
  let closed = 0
  const delivered: [string, string, number, boolean][] = []
  const config = testConfig({
    gatewayId: 'gw1',
    core: { backend: 'nats', groupId: '' },
    downlink: { enabled: options.enabled ?? true, rules: [{ source: 'cmd.>', qos: 2, retain: true }] },
  })
  const downlink = new Downlink({
    config,
    backend: fakeBackend(async (sources, onMessage, groupId) => {
      if (options.subscribeFails) throw new Error('no route to host')
      calls.push({ sources, groupId })
      handler = onMessage
      return { close: async () => void closed++ }
    }),
    deliver: async (topic, payload, qos, retain) => {
      if (options.fail) throw new Error('broker closed')
      delivered.push([topic, payload.toString(), qos, retain])
    },
    logger: silentLogger(),
  })
  const send = (subject: string, headers?: Record<string, string>) =>
    handler!({ source: 'cmd.>', subject, payload: Buffer.from('p'), ...(headers ? { headers } : {}) })
  return { downlink, calls, delivered, send, closed: () => closed }
}

test('downlink delivery - subscribes to every source with the default group edgebridge-<gatewayId>', async () => {
  const s = setup()
  await s.downlink.start()
  assert.deepEqual(s.calls, [{ sources: ['cmd.>'], groupId: 'edgebridge-gw1' }])
  await s.send('cmd.d1.reboot')
  assert.deepEqual(s.delivered, [['cmd/d1/reboot', 'p', 2, true]])
  assert.deepEqual(s.downlink.counters, { received: 1, delivered: 1, failed: 0, ownEchoes: 0 })
})

test('downlink delivery - disabled: nothing is subscribed', async () => {
  const s = setup({ enabled: false })
  await s.downlink.start()
  assert.equal(s.calls.length, 0)
})

test('downlink delivery - a failed hand-over to the broker rejects, so an acknowledging backend redelivers', async () => {
  const s = setup({ fail: true })
  await s.downlink.start()
  await assert.rejects(s.send('cmd.d1'), /broker closed/)
  assert.deepEqual(s.downlink.counters, { received: 1, delivered: 0, failed: 1, ownEchoes: 0 })
})

test('downlink delivery - a subject no rule matches is counted as failed and acknowledged', async () => {
  const s = setup()
  await s.downlink.start()
  await s.send('other.d1') // resolves: it can never be delivered, it must not block the rest
  assert.deepEqual(s.downlink.counters, { received: 1, delivered: 0, failed: 1, ownEchoes: 0 })
})

test("downlink delivery - this gateway's own uplink message is skipped", async () => {
  const s = setup()
  await s.downlink.start()
  await s.send('cmd.d1', { 'gateway.id': 'gw1' })
  await s.send('cmd.d2', { 'gateway.id': 'gw2' })
  assert.deepEqual(
    s.delivered.map((d) => d[0]),
    ['cmd/d2'],
  )
  assert.equal(s.downlink.counters.ownEchoes, 1)
})

test('downlink delivery - a subscription failure does not stop start-up (the uplink keeps working)', async () => {
  const s = setup({ subscribeFails: true })
  await s.downlink.start()
  await s.downlink.close()
})

test('downlink delivery - close() closes the subscription once, however often it is called', async () => {
  const s = setup()
  await s.downlink.start()
  await Promise.all([s.downlink.close(), s.downlink.close()])
  await s.downlink.close()
  assert.equal(s.closed(), 1)
})
