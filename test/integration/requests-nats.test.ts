/**
 * Request/reply through the whole daemon with NATS and real MQTT devices: `nc.request()` on a rule's
 * subject reaches the device, its answer comes back to the reply inbox with the status in a header;
 * a device nobody could reach, a timeout, an error status, the bounds, many devices at once, a NATS
 * server restart, and a gateway restart with requests in flight.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { connect as natsConnect, createInbox, type Msg, type NatsConnection } from '@nats-io/transport-node'
import { testConfig } from '../support/config.js'
import { testNatsUrl, uniqueName } from '../support/env.js'
import { closeAtEnd, startTestDaemon } from '../support/daemon-under-test.js'
import { answeringDevice, echoFleet } from '../support/answering-device.js'
import { connectDevice } from '../support/ingress.js'
import { parseScrape } from '../support/prometheus-text.js'
import { restartWithRequestsInFlight } from '../support/gateway-restart.js'
import { startNatsServer } from '../support/servers.js'
import { waitUntil } from '../support/wait-until.js'

async function core(servers = testNatsUrl()): Promise<NatsConnection> {
  const nc = await natsConnect({ servers, maxReconnectAttempts: -1, reconnectTimeWait: 100 })
  closeAtEnd(() => nc.close())
  return nc
}

const subjectPrefix = (): string => uniqueName('rq').replace(/-/g, '_')

type Overrides = Parameters<typeof testConfig>[0]

function requestConfig(prefix: string, extra: Overrides = {}): Overrides {
  return {
    gatewayId: uniqueName('gw'),
    core: { backend: 'nats', groupId: uniqueName('group') },
    ...extra,
    requests: {
      enabled: true,
      rules: [{ source: `${prefix}.req.*.*` }],
      timeoutMs: 20_000,
      ...extra.requests,
    },
  }
}

function answerOf(m: Msg): { status: string; origin: string; body: string; reason: string } {
  return {
    status: m.headers?.get('status') ?? '',
    origin: m.headers?.get('origin') ?? '',
    body: m.string(),
    reason: m.headers?.get('reason') ?? '',
  }
}

describe('requests - nats', () => {
  it('requests - a request reaches the device, its answer comes back with status 200, and nothing is spooled', async () => {
    const prefix = subjectPrefix()
    const { daemon, url } = await startTestDaemon(requestConfig(prefix))
    const device = await answeringDevice(url, uniqueName('dev'))
    const nc = await core()
    const m = await nc.request(`${prefix}.req.${device.id}.echo`, 'hello', { timeout: 10_000 })
    assert.deepEqual(answerOf(m), {
      status: '200',
      origin: 'device',
      body: `echo:hello:${device.id}`,
      reason: '',
    })
    assert.equal(m.headers?.get('device-id'), device.id)
    assert.equal(device.requests.length, 1)
    assert.equal(m.headers?.get('correlation-id'), device.requests[0]?.id)
    assert.equal(daemon.spool.stats().appendedTotal, 0, 'the answer is not telemetry')
    assert.equal(daemon.requests.counters.deviceAnswers, 1)
    assert.deepEqual(daemon.requests.counters.answersByStatus, { '200': 1 })
    assert.equal(daemon.requests.inFlight(), 0)
  })

  it('requests - a device with an error answers with its status', async () => {
    const prefix = subjectPrefix()
    const { url } = await startTestDaemon(requestConfig(prefix))
    const device = await answeringDevice(url, uniqueName('dev'), () => ({
      status: '500',
      payload: 'sensor broken',
    }))
    const nc = await core()
    const m = await nc.request(`${prefix}.req.${device.id}.read`, '', { timeout: 10_000 })
    assert.deepEqual(answerOf(m), {
      status: '500',
      origin: 'device',
      body: `sensor broken:${device.id}`,
      reason: '',
    })
  })

  it('requests - a device nobody could reach gets 404 at once; an offline persistent session gets the request when it returns', async () => {
    const prefix = subjectPrefix()
    const { daemon, url } = await startTestDaemon(requestConfig(prefix))
    const nc = await core()
    const started = performance.now()
    const none = await nc.request(`${prefix}.req.nobody.echo`, 'x', { timeout: 15_000 })
    assert.equal(answerOf(none).status, '404')
    assert.equal(answerOf(none).origin, 'gateway')
    // well before the rule's 20 s timeout: the gateway did not wait for one
    assert.ok(performance.now() - started < 15_000)
    assert.equal(daemon.requests.counters.noDevice, 1)

    // A persistent session, offline: the request is queued for it and answered once it is back.
    const id = uniqueName('dev')
    const first = await answeringDevice(url, id, undefined, { clean: false, keepOpen: true })
    await first.client.endAsync()
    const pending = nc.request(`${prefix}.req.${id}.echo`, 'later', { timeout: 15_000 })
    await waitUntil(() => daemon.requests.inFlight() === 1, 10_000, 'the request waiting for the session')
    const back = await answeringDevice(url, id, undefined, { clean: false })
    const m = await pending
    assert.deepEqual(answerOf(m), { status: '200', origin: 'device', body: `echo:later:${id}`, reason: '' })
    assert.equal(back.requests.length, 1)
  })

  it('requests - no answer within timeoutMs gets 504; the late answer is counted, not sent', async () => {
    const prefix = subjectPrefix()
    const { daemon, url } = await startTestDaemon(
      requestConfig(prefix, { requests: { rules: [{ source: `${prefix}.req.*.*`, timeoutMs: 300 }] } }),
    )
    const device = await answeringDevice(url, uniqueName('dev'), () => ({
      status: '200',
      payload: 'slow',
      delayMs: 1000,
    }))
    const nc = await core()
    const inbox = createInbox()
    const got: Msg[] = []
    nc.subscribe(inbox, { callback: (_e, m) => void got.push(m) })
    nc.publish(`${prefix}.req.${device.id}.echo`, 'x', { reply: inbox })
    await waitUntil(() => daemon.requests.counters.lateAnswers === 1, 10_000, 'the late answer')
    await nc.flush()
    assert.equal(got.length, 1, 'one answer only')
    assert.equal(answerOf(got[0] as Msg).status, '504')
    assert.equal(daemon.requests.counters.timeouts, 1)
  })

  it('requests - over maxInFlightPerDevice a request gets 429 at once', async () => {
    const prefix = subjectPrefix()
    const { url } = await startTestDaemon(requestConfig(prefix, { requests: { maxInFlightPerDevice: 2 } }))
    const device = await answeringDevice(url, uniqueName('dev'), () => undefined)
    const nc = await core()
    const subject = `${prefix}.req.${device.id}.wait`
    const waiting = [
      nc.request(subject, '1', { timeout: 30_000 }),
      nc.request(subject, '2', { timeout: 30_000 }),
    ]
    await waitUntil(() => device.requests.length === 2, 10_000, 'two requests at the device')
    const third = await nc.request(subject, '3', { timeout: 10_000 })
    assert.equal(answerOf(third).status, '429')
    assert.match(answerOf(third).reason, /maxInFlightPerDevice/)
    for (const w of waiting) w.catch(() => undefined)
  })

  it('requests - over maxInFlight, all devices together, a request gets 429 at once', async () => {
    const prefix = subjectPrefix()
    const { url } = await startTestDaemon(requestConfig(prefix, { requests: { maxInFlight: 2 } }))
    const silent = await Promise.all(
      [1, 2].map(() => answeringDevice(url, uniqueName('dev'), () => undefined)),
    )
    const other = await answeringDevice(url, uniqueName('dev'))
    const nc = await core()
    const waiting = silent.map((d) => nc.request(`${prefix}.req.${d.id}.wait`, '', { timeout: 30_000 }))
    await waitUntil(() => silent.every((d) => d.requests.length === 1), 10_000, 'a request at each device')
    // A third device, with nothing in flight of its own, is over the bound of all devices together.
    const third = await nc.request(`${prefix}.req.${other.id}.echo`, 'x', { timeout: 10_000 })
    assert.equal(answerOf(third).status, '429')
    assert.match(answerOf(third).reason, /requests\.maxInFlight \(2\)/)
    assert.equal(other.requests.length, 0, 'the device was not asked')
    for (const w of waiting) w.catch(() => undefined)
  })

  it('requests - an answered request frees its place: one device answers more requests, one at a time, than maxInFlightPerDevice', async () => {
    const prefix = subjectPrefix()
    const { daemon, url } = await startTestDaemon(
      requestConfig(prefix, { requests: { maxInFlight: 1, maxInFlightPerDevice: 1 } }),
    )
    const device = await answeringDevice(url, uniqueName('dev'))
    const nc = await core()
    for (let i = 0; i < 5; i++) {
      const m = await nc.request(`${prefix}.req.${device.id}.echo`, `n${i}`, { timeout: 10_000 })
      assert.deepEqual([answerOf(m).status, m.string()], ['200', `echo:n${i}:${device.id}`])
    }
    assert.equal(daemon.requests.counters.overLimit, 0)
  })

  it("requests - an answer on another device's topic does not answer the request; the device's own does", async () => {
    const prefix = subjectPrefix()
    const { daemon, url } = await startTestDaemon(requestConfig(prefix))
    const asked = await answeringDevice(url, uniqueName('dev'), () => undefined)
    const intruder = await answeringDevice(url, uniqueName('dev'), () => undefined)
    const nc = await core()
    const pending = nc.request(`${prefix}.req.${asked.id}.read`, '', { timeout: 15_000 })
    await waitUntil(() => asked.requests.length === 1, 10_000, 'the request at the device')
    const id = (asked.requests[0] as { id: string }).id
    await intruder.client.publishAsync(`edgebridge/${intruder.id}/res/200/${id}`, 'forged', { qos: 1 })
    await waitUntil(() => daemon.requests.counters.unmatchedAnswers === 1, 10_000, 'the forged answer')
    assert.equal(daemon.requests.inFlight(), 1, 'the request still waits for its device')
    await asked.client.publishAsync(`edgebridge/${asked.id}/res/200/${id}`, 'mine', { qos: 1 })
    assert.deepEqual(answerOf(await pending), { status: '200', origin: 'device', body: 'mine', reason: '' })
  })

  it('requests - a persistent session subscribed with QoS 0 only gets 404 at once: nothing is queued for it while offline [MQTT-3.1.2-5]', async () => {
    const prefix = subjectPrefix()
    const { daemon, url } = await startTestDaemon(requestConfig(prefix))
    const id = uniqueName('dev')
    const client = await connectDevice(url, id, { clean: false })
    await client.subscribeAsync(`edgebridge/${id}/req/#`, { qos: 0 })
    await client.endAsync()
    const nc = await core()
    const m = await nc.request(`${prefix}.req.${id}.echo`, 'x', { timeout: 10_000 })
    assert.deepEqual([answerOf(m).status, answerOf(m).origin], ['404', 'gateway'])
    assert.equal(daemon.requests.counters.noDevice, 1)
  })

  it('requests - metrics: requests, answers by status, gateway answers by reason, dropped answers, in flight, round trips', async () => {
    const prefix = subjectPrefix()
    const { daemon, url } = await startTestDaemon(
      requestConfig(prefix, {
        requests: {
          rules: [{ source: `${prefix}.req.*.*` }, { source: `${prefix}.slow.*.*`, timeoutMs: 300 }],
        },
      }),
    )
    const device = await answeringDevice(url, uniqueName('dev'))
    const silent = await answeringDevice(url, uniqueName('dev'), () => undefined)
    const nc = await core()
    const statuses = await Promise.all(
      [
        `${prefix}.req.${device.id}.echo`,
        `${prefix}.req.nobody.echo`,
        `${prefix}.slow.${silent.id}.wait`,
      ].map(async (subject) => answerOf(await nc.request(subject, 'x', { timeout: 10_000 })).status),
    )
    assert.deepEqual(statuses, ['200', '404', '504'])
    await device.client.publishAsync(`edgebridge/${device.id}/res/200/no-such-request`, 'x', { qos: 1 })
    await waitUntil(() => daemon.requests.counters.unmatchedAnswers === 1, 10_000, 'the unmatched answer')
    const s = parseScrape(await daemon.metrics.scrape())
    assert.equal(s.get('edgebridge_requests_received_total'), 3)
    assert.equal(s.get('edgebridge_requests_delivered_total'), 2)
    for (const status of ['200', '404', '504'])
      assert.equal(s.get('edgebridge_requests_answered_total', { status }), 1, `answers with ${status}`)
    const byReason = { no_device: 1, timeout: 1, over_limit: 0, bad_request: 0 }
    for (const [reason, n] of Object.entries(byReason))
      assert.equal(s.get('edgebridge_requests_gateway_answers_total', { reason }), n, reason)
    assert.equal(s.get('edgebridge_requests_unmatched_answers_total', { kind: 'unknown' }), 1)
    assert.equal(s.get('edgebridge_requests_unmatched_answers_total', { kind: 'late' }), 0)
    assert.equal(s.get('edgebridge_requests_in_flight'), 0)
    assert.equal(s.get('edgebridge_request_round_trip_seconds_count'), 1, 'one device answer timed')
  })

  it('requests - 20 devices, 10 concurrent requests each: every answer goes to its own requester', async () => {
    const prefix = subjectPrefix()
    const { daemon, url } = await startTestDaemon(requestConfig(prefix))
    const devices = await echoFleet(url, 20)
    const nc = await core()
    const calls = devices.flatMap((d) =>
      Array.from({ length: 10 }, (_, i) =>
        nc
          .request(`${prefix}.req.${d.id}.echo`, `${d.id}#${i}`, { timeout: 20_000 })
          .then((m) => [m.string(), `${d.id}#${i}:${d.id}`]),
      ),
    )
    for (const [got, want] of await Promise.all(calls)) assert.equal(got, want)
    assert.equal(daemon.requests.counters.deviceAnswers, 200)
    assert.equal(daemon.requests.counters.unmatchedAnswers, 0)
  })

  it('requests - keep working through a NATS server restart', async () => {
    const server = await startNatsServer()
    closeAtEnd(() => server.close())
    const prefix = subjectPrefix()
    const { url } = await startTestDaemon(requestConfig(prefix, { nats: { servers: [server.url] } }))
    const device = await answeringDevice(url, uniqueName('dev'))
    const nc = await core(server.url)
    const subject = `${prefix}.req.${device.id}.echo`
    assert.equal(
      (await nc.request(subject, 'before', { timeout: 10_000 })).string(),
      `echo:before:${device.id}`,
    )
    await server.stop()
    await server.start()
    // The requester and the gateway both reconnect; retry until the gateway has subscribed again.
    const after = await retry(() => nc.request(subject, 'after', { timeout: 1_000 }), 30_000)
    assert.equal(after.string(), `echo:after:${device.id}`)
  })

  it('requests - a gateway restart with requests in flight: each requester gets 503 or the answer, never two answers', async () => {
    const prefix = subjectPrefix()
    const nc = await core()
    const got = new Map<string, Msg[]>()
    await restartWithRequestsInFlight(requestConfig(prefix), 5, async (id) => {
      for (let i = 0; i < 5; i++) {
        const inbox = createInbox()
        got.set(inbox, [])
        nc.subscribe(inbox, { callback: (_e, m) => void got.get(inbox)?.push(m) })
        nc.publish(`${prefix}.req.${id}.echo`, `r${i}`, { reply: inbox })
      }
      await nc.flush()
    })
    await delay(200)
    await nc.flush()
    for (const [inbox, answers] of got) {
      assert.equal(answers.length, 1, `one answer for ${inbox}`)
      assert.equal(answerOf(answers[0] as Msg).status, '503')
      assert.match(answerOf(answers[0] as Msg).reason, /stopping/)
    }
  })
})

async function retry<T>(attempt: () => Promise<T>, withinMs: number): Promise<T> {
  const until = Date.now() + withinMs
  for (;;) {
    try {
      return await attempt()
    } catch (err) {
      if (Date.now() > until) throw err
      await delay(200)
    }
  }
}
