/**
 * The request/reply scenarios every backend without NATS' built-in request/reply passes (Redis
 * pub/sub, Redis Streams, Kafka), through the whole daemon with real MQTT devices: an answered
 * request, an error status, a device nobody could reach, a timeout, many devices at once, and a
 * gateway restart with requests in flight. A backend supplies how a core service asks.
 */
import { it } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { testConfig } from './config.js'
import { uniqueName } from './env.js'
import { startTestDaemon } from './daemon-under-test.js'
import { answeringDevice, echoFleet } from './answering-device.js'
import { restartWithRequestsInFlight } from './gateway-restart.js'
import { waitUntil } from './wait-until.js'

type Overrides = Parameters<typeof testConfig>[0]

export interface CoreAnswer {
  status: string
  origin: string
  device: string
  id: string
  payload: string
  reason: string
}

/** How a core service asks, for one backend. */
export interface Requester {
  /** The daemon's configuration for this backend with one request rule (requests.timeoutMs = `timeoutMs`). */
  config(timeoutMs: number): Overrides
  /** Sends a request; every answer that comes back is pushed to the returned list. */
  ask(device: string, method: string, payload: string, id?: string): Promise<CoreAnswer[]>
}

export function requestScenarios(makeRequester: () => Promise<Requester>): void {
  const first = async (answers: CoreAnswer[]): Promise<CoreAnswer> => {
    await waitUntil(() => answers.length > 0, 20_000, 'an answer')
    return answers[0] as CoreAnswer
  }

  it('requests - a request reaches the device and its answer comes back with status 200', async () => {
    const requester = await makeRequester()
    const { daemon, url } = await startTestDaemon(requester.config(20_000))
    const device = await answeringDevice(url, uniqueName('dev'))
    const answer = await first(await requester.ask(device.id, 'echo', 'hello', 'req-1'))
    assert.deepEqual(answer, {
      status: '200',
      origin: 'device',
      device: device.id,
      id: 'req-1',
      payload: `echo:hello:${device.id}`,
      reason: '',
    })
    assert.deepEqual(device.requests, [{ method: 'echo', id: 'req-1', payload: 'hello' }])
    assert.equal(daemon.spool.stats().appendedTotal, 0, 'the answer is not telemetry')
  })

  it('requests - an error status from the device reaches the requester', async () => {
    const requester = await makeRequester()
    const { url } = await startTestDaemon(requester.config(20_000))
    const device = await answeringDevice(url, uniqueName('dev'), () => ({ status: '503', payload: 'busy' }))
    const answer = await first(await requester.ask(device.id, 'read', ''))
    assert.equal(answer.status, '503')
    assert.equal(answer.origin, 'device')
    assert.equal(answer.payload, `busy:${device.id}`)
  })

  it('requests - a device nobody could reach gets 404 from the gateway, well before the timeout', async () => {
    const requester = await makeRequester()
    const { daemon } = await startTestDaemon(requester.config(60_000))
    const answer = await first(await requester.ask('nobody', 'echo', 'x'))
    assert.equal(answer.status, '404')
    assert.equal(answer.origin, 'gateway')
    assert.equal(daemon.requests.counters.noDevice, 1)
  })

  it('requests - no answer within the timeout gets 504; the late answer is counted and not sent', async () => {
    const requester = await makeRequester()
    const { daemon, url } = await startTestDaemon(requester.config(300))
    const device = await answeringDevice(url, uniqueName('dev'), () => ({
      status: '200',
      payload: 'slow',
      delayMs: 1000,
    }))
    const answers = await requester.ask(device.id, 'echo', 'x')
    await waitUntil(() => daemon.requests.counters.lateAnswers === 1, 10_000, 'the late answer')
    await delay(300)
    assert.deepEqual(
      answers.map((a) => [a.status, a.origin]),
      [['504', 'gateway']],
    )
  })

  it('requests - 10 devices, 5 concurrent requests each: every answer goes to its own request', async () => {
    const requester = await makeRequester()
    const { daemon, url } = await startTestDaemon(requester.config(30_000))
    const devices = await echoFleet(url, 10)
    const asked = await Promise.all(
      devices.flatMap((d) =>
        Array.from({ length: 5 }, async (_, i) => ({
          want: `${d.id}#${i}:${d.id}`,
          answers: await requester.ask(d.id, 'echo', `${d.id}#${i}`),
        })),
      ),
    )
    await waitUntil(() => asked.every((a) => a.answers.length > 0), 30_000, 'every answer')
    for (const { want, answers } of asked) assert.equal(answers[0]?.payload, want)
    assert.equal(daemon.requests.counters.deviceAnswers, 50)
  })

  it('requests - a gateway restart with requests in flight: each requester gets one 503, the late answers match nothing', async () => {
    const requester = await makeRequester()
    let asked: CoreAnswer[][] = []
    const daemon = await restartWithRequestsInFlight(requester.config(30_000), 5, async (id) => {
      asked = await Promise.all(
        Array.from({ length: 5 }, (_, i) => requester.ask(id, 'echo', `r${i}`, `${id}-r${i}`)),
      )
    })
    await delay(500)
    // Stopping answered each request in flight with 503; the answers after the restart matched nothing.
    for (const answers of asked)
      assert.deepEqual(
        answers.map((a) => [a.status, a.reason]),
        [['503', 'gateway stopping']],
      )
    assert.equal(daemon.requests.counters.unmatchedAnswers, 5)
  })
}
