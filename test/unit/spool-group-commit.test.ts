/**
 * Group commit with writes beside the fsync: the disk spool writes new frames while an fsync runs,
 * and an fsync covers only the frames whose write returned before it began. These tests hold each
 * fsync open to see what it settles.
 */
import assert from 'node:assert/strict'
import type { FileHandle } from 'node:fs/promises'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { silentLogger } from '../../src/observability/logger.js'
import { DiskSpool } from '../../src/spool/disk-spool.js'
import { defaultIo, type SpoolIo } from '../../src/spool/spool-io.js'
import { waitUntil } from '../support/wait-until.js'
import { makeRecord } from './spool-contract.js'

const dirs: string[] = []
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

/** The real IO, with each segment fsync held until the test lets it return (once `holding`). */
class HeldFsyncIo implements Partial<SpoolIo> {
  holding = false
  writes = 0
  fsyncsStarted = 0
  private releases: (() => void)[] = []

  async write(fh: FileHandle, data: Buffer, position: number): Promise<void> {
    await defaultIo.write(fh, data, position)
    this.writes++
  }

  async fsync(fh: FileHandle): Promise<void> {
    if (!this.holding) return defaultIo.fsync(fh)
    this.fsyncsStarted++
    await new Promise<void>((res) => this.releases.push(res))
    await defaultIo.fsync(fh)
  }

  /** Let the oldest held fsync return. */
  releaseOne(): void {
    this.releases.shift()?.()
  }

  /** Stop holding, and let every held fsync return. */
  releaseAll(): void {
    this.holding = false
    for (const release of this.releases.splice(0)) release()
  }
}

const ticks = async (n = 20): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((res) => setImmediate(res))
}

describe('spool group commit', () => {
  it('spool group commit - a frame written while an fsync runs waits for the next fsync', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'eb-group-commit-'))
    dirs.push(dir)
    const io = new HeldFsyncIo()
    const spool = await DiskSpool.open({ dir, fsync: 'always', io, logger: silentLogger() })
    try {
      io.holding = true
      const settled: string[] = []
      const a = spool.append(makeRecord(1), { waitDurable: true }).then(() => settled.push('a'))
      await waitUntil(() => io.fsyncsStarted === 1, 5_000, 'the first fsync starts')
      const writesBefore = io.writes
      const b = spool.append(makeRecord(2), { waitDurable: true }).then(() => settled.push('b'))
      // b's frame is written while the first fsync is still held: the writer does not wait for it.
      await waitUntil(() => io.writes > writesBefore, 5_000, 'b is written beside the held fsync')
      assert.deepEqual(settled, [], 'nothing is durable before an fsync returns')

      io.releaseOne()
      await a
      await ticks()
      assert.deepEqual(settled, ['a'], 'the first fsync began before b was written: it does not cover b')
      await waitUntil(() => io.fsyncsStarted === 2, 5_000, 'a second fsync starts for b')

      io.releaseOne()
      await b
      assert.deepEqual(settled, ['a', 'b'])
    } finally {
      io.releaseAll()
      await spool.close()
    }
  })
})
