/**
 * The systemd watchdog's pings follow the forwarder: they go on while it forwards, waits for records or
 * waits out a core outage, and stop when a send never settles (a wedged forwarder), so systemd
 * restarts the gateway. A real Forwarder over a memory spool, with a backend the test scripts.
 */
import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import type { Backend } from '../../src/backends/backend.js'
import { BackendError } from '../../src/errors.js'
import { Forwarder } from '../../src/forwarder/forwarder.js'
import { silentLogger } from '../../src/observability/logger.js'
import { startWatchdog } from '../../src/observability/watchdog.js'
import { MemorySpool } from '../../src/spool/memory-spool.js'
import { testConfig } from '../support/config.js'
import { waitUntil } from '../support/wait-until.js'

type Mode = 'ok' | 'down' | 'wedged'

class ModalBackend implements Backend {
  readonly name = 'redis' as const
  mode: Mode = 'ok'
  private readonly hung: Array<() => void> = []
  async connect(): Promise<void> {}
  isConnected(): boolean {
    return this.mode !== 'down'
  }
  async close(): Promise<void> {
    for (const release of this.hung.splice(0)) release()
  }
  send(): Promise<void> {
    if (this.mode === 'down')
      return Promise.reject(new BackendError('BACKEND_UNAVAILABLE', 'down', { retriable: true }))
    // A wedged client: the promise never settles, whatever the abort signal says (released at the end).
    if (this.mode === 'wedged') return new Promise<void>((resolve) => this.hung.push(resolve))
    return Promise.resolve()
  }
}

const record = (i: number) => ({
  topic: 't',
  payload: Buffer.from(`m${i}`),
  qos: 1 as const,
  retain: false,
  clientId: 'c',
  gatewayId: 'g',
  receivedAt: Date.now(),
  target: 't',
  codec: 'raw' as const,
})

it('watchdog - pings while the forwarder forwards, waits or retries; stop when a send never settles', async () => {
  const spool = new MemorySpool({ maxBytes: 1 << 20, whenFull: 'block', logger: silentLogger() })
  const backend = new ModalBackend()
  const config = { ...testConfig().forwarder, retryInitialMs: 5, retryMaxMs: 20 }
  const forwarder = new Forwarder(spool, backend, config, silentLogger())
  forwarder.start()
  let pings = 0
  const stallLimitMs = 300
  const watchdog = startWatchdog({
    intervalMs: 150,
    stallLimitMs,
    forwarder,
    ping: () => pings++,
    logger: silentLogger(),
  })
  after(async () => {
    watchdog.stop()
    await backend.close()
    await forwarder.stop(0)
    await spool.close()
  })

  // Idle (waiting for records) and forwarding: pings go on.
  await waitUntil(() => pings >= 3, 5000, 'pings while idle')
  for (let i = 0; i < 10; i++) await spool.append(record(i), { waitDurable: true })
  await waitUntil(() => spool.stats().depthRecords === 0, 5000, 'records forwarded')

  // A core outage: the forwarder retries for longer than the stall limit, and stays alive.
  backend.mode = 'down'
  await spool.append(record(10), { waitDurable: true })
  await waitUntil(() => forwarder.getState() === 'retrying', 5000, 'retrying')
  const beforeOutage = pings
  await waitUntil(
    () => pings >= beforeOutage + 5,
    10_000,
    'pings through an outage longer than the stall limit',
  )
  assert.ok(forwarder.stalledForMs() <= stallLimitMs)

  // The send never settles: past the stall limit, no more pings.
  backend.mode = 'wedged'
  await waitUntil(() => forwarder.stalledForMs() > stallLimitMs + 200, 10_000, 'the forwarder wedged')
  const atWedge = pings
  await waitUntil(() => forwarder.stalledForMs() > stallLimitMs + 800, 10_000, 'a while later')
  assert.equal(pings, atWedge, 'no watchdog ping while the forwarder is wedged')
})

it('watchdog - a replay paced by forwarder.replayRateLimit is waiting, not a stall', async () => {
  const spool = new MemorySpool({ maxBytes: 1 << 20, whenFull: 'block', logger: silentLogger() })
  const backend = new ModalBackend()
  // 20 msg/s (one second of burst) with batches of 60: each batch waits 2 to 3 s for its pace.
  const config = { ...testConfig().forwarder, replayRateLimit: 20, batchMaxRecords: 60 }
  const forwarder = new Forwarder(spool, backend, config, silentLogger())
  for (let i = 0; i < 120; i++) await spool.append(record(i), { waitDurable: true })
  forwarder.start()
  after(async () => {
    await forwarder.stop(0)
    await spool.close()
  })
  let longest = 0
  await waitUntil(
    () => {
      longest = Math.max(longest, forwarder.stalledForMs())
      return spool.stats().depthRecords === 0
    },
    30_000,
    'the paced replay done',
  )
  assert.ok(longest < 1000, `counted ${longest} ms of pacing as a stall`)
})
