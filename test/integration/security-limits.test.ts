import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { MqttClient } from 'mqtt'
import { createFlappingPreConnect } from '../../src/ingress/limits/connect-guard.js'
import { ConnectionLimiter, createAdmitHook } from '../../src/ingress/limits/connection-limiter.js'
import { FlappingTracker } from '../../src/ingress/limits/flapping-tracker.js'
import { PublishThrottle } from '../../src/ingress/limits/publish-throttle.js'
import { silentLogger } from '../../src/observability/logger.js'
import { ManualClock } from '../support/manual-clock.js'
import { waitUntil } from '../support/wait-until.js'
import { listenerConfig, startSecurityBroker } from '../support/security-broker.js'
import { mustConnect, tryConnect, urlOf } from '../support/mqtt-connect.js'

const waitFor = (cond: () => boolean): Promise<void> => waitUntil(cond, 10_000, 'the broker to catch up')

describe('security - limits against a live broker', () => {
  it('security - the per-listener cap admits exactly maxConnections; a freed slot admits the next', async () => {
    const sb = await startSecurityBroker()
    const open: MqttClient[] = []
    try {
      const l = await sb.listen(listenerConfig({ maxConnections: 2 }))
      open.push(await mustConnect(urlOf(l)), await mustConnect(urlOf(l)))
      assert.equal((await tryConnect(urlOf(l))).kind, 'closed')
      await open.shift()!.endAsync()
      await waitFor(() => sb.broker.connectedClients === 1)
      open.push(await mustConnect(urlOf(l)))
    } finally {
      await Promise.all(open.map((c) => c.endAsync()))
      await sb.close()
    }
  })

  it('security - the global cap counts across listeners', async () => {
    const sb = await startSecurityBroker()
    const limiter = new ConnectionLimiter(3)
    const counters = { refusedOverCap: 0, refusedBanned: 0 }
    const admit = createAdmitHook(limiter, null, silentLogger(), counters)
    const open: MqttClient[] = []
    try {
      const a = await sb.listen(listenerConfig(), { admit })
      const b = await sb.listen(listenerConfig({ type: 'ws' }), { admit })
      open.push(
        await mustConnect(urlOf(a)),
        await mustConnect(urlOf(b, 'ws', '/mqtt')),
        await mustConnect(urlOf(a)),
      )
      assert.equal((await tryConnect(urlOf(b, 'ws', '/mqtt'))).kind, 'closed')
      assert.equal((await tryConnect(urlOf(a))).kind, 'closed')
      assert.equal(counters.refusedOverCap, 2)
      assert.equal(limiter.current, 3)
    } finally {
      await Promise.all(open.map((c) => c.endAsync()))
      await sb.close()
    }
  })

  it('security - a flapping client is refused without CONNACK, and its address is banned at accept', async () => {
    const clock = new ManualClock()
    const tracker = new FlappingTracker({ maxConnects: 3, windowMs: 10_000, banMs: 60_000 })
    const counters = { refusedOverCap: 0, refusedBanned: 0 }
    const sb = await startSecurityBroker({
      preConnect: createFlappingPreConnect(tracker, silentLogger(), clock),
    })
    try {
      const admit = createAdmitHook(new ConnectionLimiter(0), tracker, silentLogger(), counters, clock)
      const l = await sb.listen(listenerConfig(), { admit })
      for (let i = 0; i < 3; i++) {
        const c = await mustConnect(urlOf(l), { clientId: 'flappy' })
        await c.endAsync()
      }
      assert.equal((await tryConnect(urlOf(l), { clientId: 'flappy' })).kind, 'closed')
      // The address is banned too, so another id from it is refused before MQTT.
      assert.equal((await tryConnect(urlOf(l), { clientId: 'sibling' })).kind, 'closed')
      assert.equal(counters.refusedBanned, 1)
      await clock.advance(60_001)
      const c = await mustConnect(urlOf(l), { clientId: 'flappy' })
      await c.endAsync()
    } finally {
      await sb.close()
    }
  })

  it('security - over its publish rate a client is slowed, not dropped: all messages arrive, in order', async () => {
    const clock = new ManualClock()
    const throttle = new PublishThrottle({ ratePerSecond: 2, publishBurst: 5, maxInflight: 0 }, clock)
    const sb = await startSecurityBroker({ throttle })
    try {
      const l = await sb.listen(listenerConfig())
      const c = await mustConnect(urlOf(l))
      let acked = 0
      const topics = Array.from({ length: 20 }, (_, i) => `rate/${i}`)
      const all = Promise.all(topics.map((t) => c.publishAsync(t, 'x', { qos: 1 }).then(() => acked++)))
      // The burst goes through, then the client waits for tokens while the clock stands still.
      await waitFor(() => sb.published.length === 5 && throttle.delayed > 0)
      await clock.settle()
      assert.equal(sb.published.length, 5)
      assert.ok(acked <= 5)
      await clock.advance(500) // one token
      await waitFor(() => sb.published.length === 6)
      await clock.advance(7_000) // enough for the rest
      await all
      assert.equal(acked, 20)
      assert.deepEqual(sb.published, topics)
      assert.equal(c.connected, true, 'a slowed client stays connected')
      await c.endAsync()
    } finally {
      await sb.close()
    }
  })
})
