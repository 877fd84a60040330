/**
 * The forwarder's loop against a scripted backend (this tests the forwarder's own rules; every real
 * backend is tested against its real server in test/conformance).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Backend } from '../../src/backends/backend.js'
import { BackendError } from '../../src/errors.js'
import { DeadLetterFile } from '../../src/forwarder/dead-letter.js'
import { Forwarder } from '../../src/forwarder/forwarder.js'
import { silentLogger } from '../../src/observability/logger.js'
import type { SpooledRecord } from '../../src/record.js'
import { MemorySpool } from '../../src/spool/memory-spool.js'
import { testConfig } from '../support/config.js'
import { captureLog } from '../support/log-capture.js'
import { waitUntil } from '../support/wait-until.js'

/** A backend whose answer to each send is decided by the test. */
class ScriptedBackend implements Backend {
  readonly name = 'redis' as const
  readonly delivered: string[] = []
  sends = 0
  connected = true
  constructor(
    private readonly answer: (batch: readonly SpooledRecord[], attempt: number) => Error | undefined,
  ) {}
  async connect(): Promise<void> {}
  isConnected(): boolean {
    return this.connected
  }
  async close(): Promise<void> {}
  async send(batch: readonly SpooledRecord[]): Promise<void> {
    const error = this.answer(batch, this.sends++)
    if (error) throw error
    this.delivered.push(...batch.map((r) => r.payload.toString()))
  }
}

const forwarderConfig = { ...testConfig().forwarder, retryInitialMs: 1, retryMaxMs: 5, batchMaxRecords: 4 }

async function fill(spool: MemorySpool, count: number): Promise<string[]> {
  const payloads = Array.from({ length: count }, (_, i) => `m${i}`)
  for (const p of payloads) {
    await spool.append(
      {
        topic: 't',
        payload: Buffer.from(p),
        qos: 1,
        retain: false,
        clientId: 'c',
        gatewayId: 'g',
        receivedAt: 0,
        target: 't',
        codec: 'raw',
      },
      { waitDurable: true },
    )
  }
  return payloads
}

describe('forwarder - read, send, commit', () => {
  it('forwarder - retries a failed batch whole and delivers everything in order, committing only after success', async () => {
    const spool = new MemorySpool({ logger: silentLogger() })
    const payloads = await fill(spool, 10)
    const backend = new ScriptedBackend((_batch, attempt) =>
      attempt % 2 === 0
        ? new BackendError('BACKEND_UNAVAILABLE', 'core away', { retriable: true })
        : undefined,
    )
    const forwarder = new Forwarder(spool, backend, forwarderConfig, silentLogger())
    forwarder.start()
    await waitUntil(() => backend.delivered.length === 10, 5000, 'all delivered')
    await waitUntil(() => spool.stats().depthRecords === 0, 5000, 'all committed')
    assert.deepEqual(backend.delivered, payloads)
    assert.ok(forwarder.counters.sendFailures >= 3)
    await forwarder.stop(0)
  })

  it('forwarder - nothing is committed while the core keeps failing', async () => {
    const spool = new MemorySpool({ logger: silentLogger() })
    await fill(spool, 3)
    const backend = new ScriptedBackend(() => new BackendError('BACKEND_AUTH', 'wrong password'))
    const forwarder = new Forwarder(spool, backend, forwarderConfig, silentLogger())
    forwarder.start()
    await waitUntil(() => backend.sends >= 3, 5000, 'several attempts')
    assert.equal(spool.stats().depthRecords, 3)
    assert.equal(backend.delivered.length, 0)
    await forwarder.stop(0)
    assert.equal(spool.stats().depthRecords, 3)
  })

  it('forwarder - a non-retriable error blocks forwarding: the batch stays at the head, one error line, probes every retryMaxMs, then resumes in order', async () => {
    const spool = new MemorySpool({ logger: silentLogger() })
    const payloads = await fill(spool, 6)
    let fixed = false
    const backend = new ScriptedBackend(() =>
      fixed ? undefined : new BackendError('BACKEND_AUTH', 'wrong password', { retriable: false }),
    )
    const log = captureLog('info')
    const config = { ...forwarderConfig, retryInitialMs: 1, retryMaxMs: 40 }
    const forwarder = new Forwarder(spool, backend, config, log.logger)
    forwarder.start()
    await waitUntil(() => backend.sends >= 4, 5000, 'several probes')
    assert.equal(forwarder.getState(), 'blocked')
    assert.equal(spool.stats().depthRecords, 6, 'nothing committed, nothing dropped')
    assert.equal(backend.delivered.length, 0)
    const blocked = log.find('forwarding is blocked')
    assert.equal(blocked.length, 1, 'said once, not once per probe')
    assert.equal((blocked[0]!.err as { code?: string }).code, 'BACKEND_AUTH')
    assert.equal(blocked[0]!.level, 50, 'an error line')
    assert.equal(forwarder.counters.lastError, 'wrong password')
    // Probed at retryMaxMs, not with the short back-off of a retriable error (40 ms vs 1 ms).
    const sendsBefore = backend.sends
    await new Promise((r) => setTimeout(r, 200))
    assert.ok(backend.sends - sendsBefore <= 6, `probes in 200 ms: ${backend.sends - sendsBefore}`)

    fixed = true
    await waitUntil(() => spool.stats().depthRecords === 0, 5000, 'the backlog drains')
    assert.deepEqual(backend.delivered, payloads)
    assert.equal(log.find('forwarding is no longer blocked').length, 1)
    assert.notEqual(forwarder.getState(), 'blocked')
    await forwarder.stop(0)
  })

  it('forwarder - a record the core refuses for good goes to the dead-letter file; the rest are delivered in order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgebridge-dlq-'))
    const spool = new MemorySpool({ logger: silentLogger() })
    const payloads = await fill(spool, 10)
    const poison = 'm6'
    const backend = new ScriptedBackend((batch) =>
      batch.some((r) => r.payload.toString() === poison)
        ? new BackendError('BACKEND_REJECTED', 'message too large for the core')
        : undefined,
    )
    const deadLetter = new DeadLetterFile(join(dir, 'dead-letter.jsonl'))
    const forwarder = new Forwarder(spool, backend, forwarderConfig, silentLogger(), deadLetter)
    forwarder.start()
    await waitUntil(() => spool.stats().depthRecords === 0, 5000, 'all committed')
    await forwarder.stop(0)
    assert.deepEqual(
      backend.delivered,
      payloads.filter((p) => p !== poison),
    )
    assert.equal(forwarder.counters.deadLettered, 1)
    const lines = (await readFile(deadLetter.path, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.equal(lines.length, 1)
    assert.equal(Buffer.from(lines[0].payload, 'base64').toString(), poison)
    assert.match(lines[0].reason, /too large/)
    await rm(dir, { recursive: true, force: true })
  })

  it('forwarder - without a dead-letter file a refused record is retried, never dropped', async () => {
    const spool = new MemorySpool({ logger: silentLogger() })
    await fill(spool, 1)
    const backend = new ScriptedBackend(() => new BackendError('BACKEND_REJECTED', 'refused'))
    const forwarder = new Forwarder(spool, backend, forwarderConfig, silentLogger())
    forwarder.start()
    await waitUntil(() => backend.sends >= 3, 5000, 'several attempts')
    await forwarder.stop(0)
    assert.equal(spool.stats().depthRecords, 1)
  })

  it('forwarder - a long back-off ends as soon as the core client reconnects', async () => {
    const spool = new MemorySpool({ logger: silentLogger() })
    const payloads = await fill(spool, 2)
    const backend: ScriptedBackend = new ScriptedBackend((): Error | undefined =>
      backend.connected
        ? undefined
        : new BackendError('BACKEND_UNAVAILABLE', 'core away', { retriable: true }),
    )
    backend.connected = false
    // The back-off is a minute: without the early wake the test would time out.
    const patient = { ...forwarderConfig, retryInitialMs: 60_000, retryMaxMs: 60_000 }
    const forwarder = new Forwarder(spool, backend, patient, silentLogger(), undefined, () => 1)
    forwarder.start()
    await waitUntil(() => backend.sends >= 1, 5000, 'a first failed attempt')
    backend.connected = true
    await waitUntil(() => backend.delivered.length === 2, 5000, 'delivery right after the reconnect')
    assert.deepEqual(backend.delivered, payloads)
    await forwarder.stop(0)
  })

  it('forwarder - stop drains what is spooled before returning', async () => {
    const spool = new MemorySpool({ logger: silentLogger() })
    const payloads = await fill(spool, 9)
    const backend = new ScriptedBackend(() => undefined)
    const forwarder = new Forwarder(spool, backend, forwarderConfig, silentLogger())
    forwarder.start()
    await forwarder.stop(5000)
    assert.deepEqual(backend.delivered, payloads)
    assert.equal(forwarder.getState(), 'stopped')
  })
})
