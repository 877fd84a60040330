import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { TokenBucket } from '../../src/ingress/limits/token-bucket.js'
import { FlappingTracker } from '../../src/ingress/limits/flapping-tracker.js'
import { ConnectionLimiter } from '../../src/ingress/limits/connection-limiter.js'
import { PublishThrottle } from '../../src/ingress/limits/publish-throttle.js'
import { ManualClock } from '../support/manual-clock.js'

describe('limits - token bucket', () => {
  it('limits - a full bucket serves a burst, then one token per 1/rate, reserved in order', () => {
    const b = new TokenBucket(10, 3, 0)
    assert.deepEqual([b.reserve(0), b.reserve(0), b.reserve(0)], [0, 0, 0])
    assert.equal(b.reserve(0), 100)
    assert.equal(b.reserve(0), 200)
    // After 200 ms both reserved tokens exist and the bucket is empty again.
    assert.equal(b.available(200), 0)
    assert.equal(b.reserve(250), 50)
  })

  it('limits - refill is capped at the burst size', () => {
    const b = new TokenBucket(100, 5, 0)
    for (let i = 0; i < 5; i++) b.reserve(0)
    assert.equal(b.available(60_000), 5)
  })
})

describe('limits - flapping tracker', () => {
  it('limits - more than maxConnects in the window bans for banMs', () => {
    const t = new FlappingTracker({ maxConnects: 3, windowMs: 1000, banMs: 5000 })
    assert.deepEqual(
      [t.record('id:a', 0), t.record('id:a', 100), t.record('id:a', 200)],
      [false, false, false],
    )
    assert.equal(t.record('id:a', 300), true)
    assert.equal(t.isBanned('id:a', 5299), true)
    assert.equal(t.record('id:a', 5000), true, 'connects during the ban stay refused')
    assert.equal(t.isBanned('id:a', 5300), false)
    assert.equal(t.record('id:a', 5300), false)
    assert.equal(t.isBanned('id:b', 300), false, 'other keys are unaffected')
  })

  it('limits - connects spread wider than the window never ban', () => {
    const t = new FlappingTracker({ maxConnects: 2, windowMs: 1000, banMs: 5000 })
    for (let i = 0; i < 20; i++) assert.equal(t.record('ip:1.2.3.4', i * 600), false)
  })

  it('limits - maxConnects 0 turns it off', () => {
    const t = new FlappingTracker({ maxConnects: 0, windowMs: 1000, banMs: 5000 })
    for (let i = 0; i < 100; i++) assert.equal(t.record('id:a', 0), false)
  })
})

describe('limits - connection limiter', () => {
  it('limits - refuses over the cap, a release frees one slot once', () => {
    const l = new ConnectionLimiter(2)
    const a = l.tryAcquire()
    const b = l.tryAcquire()
    assert.ok(a && b)
    assert.equal(l.tryAcquire(), null)
    a()
    a()
    assert.equal(l.current, 1)
    assert.ok(l.tryAcquire())
    assert.equal(l.tryAcquire(), null)
    assert.ok(new ConnectionLimiter(0).tryAcquire(), '0 = unlimited')
  })
})

describe('limits - publish throttle', () => {
  it('limits - over the rate a publish waits for its token, in order, and is never dropped', async () => {
    const clock = new ManualClock()
    const t = new PublishThrottle({ ratePerSecond: 2, publishBurst: 2, maxInflight: 0 }, clock)
    const client = {}
    const done: number[] = []
    const all = Array.from({ length: 6 }, (_, i) =>
      t.acquire(client).then((release) => (done.push(i), release())),
    )
    await clock.settle()
    assert.deepEqual(done, [0, 1])
    assert.equal(t.delayed, 4)
    await clock.advance(500)
    assert.deepEqual(done, [0, 1, 2])
    await clock.advance(1500)
    assert.deepEqual(done, [0, 1, 2, 3, 4, 5])
    await Promise.all(all)
  })

  it('limits - at most maxInflight publishes are held at once; a release admits the next', async () => {
    const t = new PublishThrottle({ ratePerSecond: 0, publishBurst: 0, maxInflight: 2 })
    const client = {}
    const r1 = await t.acquire(client)
    await t.acquire(client)
    let third = false
    const p3 = t.acquire(client).then((r) => ((third = true), r))
    await new Promise((r) => setImmediate(r))
    assert.equal(third, false)
    r1()
    r1()
    await p3
    assert.equal(third, true)
    // Another client has its own allowance.
    await t.acquire({})
  })

  it('limits - close wakes rate-limited publishes so shutdown is not held up', async () => {
    const clock = new ManualClock()
    const t = new PublishThrottle({ ratePerSecond: 1, publishBurst: 1, maxInflight: 0 }, clock)
    const client = {}
    await t.acquire(client)
    const waiting = t.acquire(client)
    await clock.settle()
    assert.equal(t.delayed, 1)
    t.close()
    await waiting
    assert.equal(t.delayed, 0)
  })
})
