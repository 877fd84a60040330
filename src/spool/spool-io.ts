/**
 * The spool's IO seam: every filesystem call that changes what survives a crash (create, write,
 * fsync, truncate, rename, unlink, directory fsync) goes through one `SpoolIo`. Reads do not: they see
 * the page cache, which is what the spool itself wrote.
 *
 * Why a seam: durability is decided by the order of these calls, and only a layer that sees all of
 * them can check it. Tests replace it to inject ENOSPC or EIO, to count fsyncs, and to simulate a
 * power cut (the power-loss sweep keeps only what was fsynced, the way RocksDB's
 * FaultInjectionTestFS does).
 */
import { writeSync } from 'node:fs'
import { open, rename, unlink, type FileHandle } from 'node:fs/promises'

export interface SpoolIo {
  /** Open `path` with Node's `flags` ('w+' creates or empties, 'r+' opens an existing file). */
  open(path: string, flags: 'w' | 'w+' | 'r+'): Promise<FileHandle>
  /** Write all of `data` at `position`, or throw. */
  write(fh: FileHandle, data: Buffer, position: number): Promise<void>
  /** Make the file's data durable (fsync). */
  fsync(fh: FileHandle): Promise<void>
  truncate(fh: FileHandle, length: number): Promise<void>
  close(fh: FileHandle): Promise<void>
  rename(from: string, to: string): Promise<void>
  unlink(path: string): Promise<void>
  /** fsync a directory, so that an entry created, renamed or deleted in it survives a power cut. */
  syncDir(dir: string): Promise<void>
}

export const defaultIo: SpoolIo = {
  open: (path, flags) => open(path, flags),
  // Synchronous on purpose: a write copies the bytes into the page cache (about 10 µs for a group of
  // frames), while an asynchronous one costs a thread-pool round trip (about 65 µs of CPU and a turn
  // of the event loop before the fsync can begin). What waits for the disk, the fsync, stays
  // asynchronous.
  async write(fh, data, position) {
    let done = 0
    while (done < data.length) done += writeSync(fh.fd, data, done, data.length - done, position + done)
  },
  fsync: (fh) => fh.sync(),
  truncate: (fh, length) => fh.truncate(length),
  close: (fh) => fh.close(),
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
  async syncDir(dir) {
    const dh = await open(dir, 'r')
    try {
      await dh.sync()
    } finally {
      await dh.close()
    }
  },
}

/**
 * The seam with some calls replaced (tests); the rest are the real ones. `overrides` may be a class
 * instance: its methods are looked up (not spread) and bound to it.
 */
export function spoolIo(overrides: Partial<SpoolIo> | undefined): SpoolIo {
  if (overrides === undefined) return defaultIo
  const io: Record<string, unknown> = { ...defaultIo }
  for (const key of Object.keys(defaultIo) as (keyof SpoolIo)[]) {
    const call = overrides[key]
    if (typeof call === 'function') io[key] = call.bind(overrides)
  }
  return io as unknown as SpoolIo
}
