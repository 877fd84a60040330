import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { recordSize } from '../../src/record.js'
import { MemorySpool } from '../../src/spool/memory-spool.js'
import { silentLogger } from '../../src/observability/logger.js'
import { capturingLogger, makeRecord, spoolContract } from './spool-contract.js'

spoolContract('memory spool', {
  create: async ({ maxBytes, whenFull }) => {
    return new MemorySpool({ maxBytes, whenFull, logger: silentLogger() })
  },
  sizeOf: recordSize,
})

describe('memory spool', () => {
  it('memory spool - drops are logged, summarized (rate-limited) under a flood', async () => {
    const { logger, lines } = capturingLogger()
    const size = recordSize(makeRecord(0, { payload: Buffer.alloc(10) }))
    const spool = new MemorySpool({
      maxBytes: size,
      whenFull: 'drop-newest',
      logger,
      dropLogIntervalMs: 60_000,
    })
    await spool.append(makeRecord(0, { payload: Buffer.alloc(10) }), { waitDurable: true })
    for (let i = 0; i < 100; i++) {
      await assert.rejects(spool.append(makeRecord(0, { payload: Buffer.alloc(10) }), { waitDurable: true }))
    }
    await new Promise((r) => setImmediate(r))
    const dropLines = () => lines.filter((l) => l.reason === 'drop-newest')
    assert.equal(dropLines().length, 1, 'one line at once, not one per drop')
    assert.equal(dropLines()[0]!.dropped, 1)
    await spool.close()
    await new Promise((r) => setImmediate(r))
    assert.equal(dropLines().length, 2, 'close logs the rest of the burst')
    assert.equal(dropLines()[1]!.dropped, 99)
    assert.equal(dropLines()[1]!.droppedTotal, 100)
    assert.equal(spool.stats().drops['drop-newest'], 100)
  })

  it('memory spool - seq continues from lastSeq', async () => {
    const spool = new MemorySpool({ logger: silentLogger(), lastSeq: 41 })
    assert.equal(await spool.append(makeRecord(1), { waitDurable: true }), 42)
    await spool.close()
  })
})
