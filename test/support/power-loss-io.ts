/**
 * A power-loss simulation at the spool's IO seam (src/spool/spool-io.ts), modelled on RocksDB's
 * FaultInjectionTestFS: every call goes to the real files (which play the page cache), and the layer
 * remembers what a power cut would leave behind:
 *
 * - a file's content is what its last fsync saw (`torn: true` keeps the first half of any bytes
 *   appended since, as a write cut short by the power would);
 * - a directory holds the entries it had at its last fsync: files created since disappear, renames
 *   and unlinks since are undone.
 *
 * `cutAt: n` cuts the power at the n-th call (1-based): that call and every later one fails with EIO,
 * so nothing written afterwards can persist. `powerLoss()` then rewrites the directory on disk to what
 * survived. Two deliberately broken variants show that the model catches what it must:
 * `fsyncLies` (fsync returns without making anything durable: an acknowledgement given before the
 * data is on the disk) and `dirSyncLies` (directory fsyncs are skipped).
 *
 * One directory only (the spool's): every path must lie directly in it.
 */
import type { FileHandle } from 'node:fs/promises'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { defaultIo, type SpoolIo } from '../../src/spool/spool-io.js'

export interface PowerLossOptions {
  /** Cut the power at this call (1-based); never when undefined. */
  cutAt?: number
  /** After the cut, keep half of each file's bytes written since its last fsync. */
  torn?: boolean
  /** Broken variant: fsync makes nothing durable. */
  fsyncLies?: boolean
  /** Broken variant: directory fsyncs make nothing durable. */
  dirSyncLies?: boolean
}

/** A file's identity, which survives renames (a directory entry points at one). */
interface Inode {
  /** Content as of its last fsync: what a power cut leaves (empty until the first fsync). */
  synced: Buffer
}

function powerCutError(call: string): Error {
  return Object.assign(new Error(`simulated power cut (${call})`), { code: 'EIO' })
}

export class PowerLossIo implements SpoolIo {
  /** Calls made so far (close is not counted: it changes nothing that survives). */
  calls = 0
  /** True once the power is cut. */
  cut = false
  /** The call the power was cut at (e.g. `fsync`, `rename commit.tmp`). */
  cutCall: string | undefined
  /** Settles when the power is cut (an append may then wait forever: the spool holds it). */
  readonly whenCut: Promise<void>
  private onCut: () => void = () => undefined
  private readonly entries = new Map<string, Inode>()
  private durableEntries = new Map<string, Inode>()
  private readonly handles = new Map<FileHandle, Inode>()

  private constructor(
    private readonly dir: string,
    private readonly options: PowerLossOptions,
  ) {
    this.whenCut = new Promise((resolve) => (this.onCut = resolve))
  }

  /** Start watching `dir`: whatever is in it now counts as durable. */
  static async watch(dir: string, options: PowerLossOptions = {}): Promise<PowerLossIo> {
    const io = new PowerLossIo(dir, options)
    for (const name of await readdir(dir)) {
      const inode = { synced: await readFile(join(dir, name)) }
      io.entries.set(name, inode)
      io.durableEntries.set(name, inode)
    }
    return io
  }

  /** Calls made by kind (open, write, fsync, truncate, rename, unlink, syncDir), the cut one included. */
  readonly kinds = new Map<string, number>()

  private step(call: string): void {
    if (this.cut) throw powerCutError(call)
    this.calls++
    const kind = call.split(' ')[0]!
    this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1)
    if (this.options.cutAt !== undefined && this.calls >= this.options.cutAt) {
      this.cut = true
      this.cutCall = call
      this.onCut()
      throw powerCutError(call)
    }
  }

  private name(path: string): string {
    if (dirname(path) !== this.dir) throw new Error(`power-loss io: ${path} is outside ${this.dir}`)
    return basename(path)
  }

  private inodeOf(fh: FileHandle): Inode {
    const inode = this.handles.get(fh)
    if (inode === undefined) throw new Error('power-loss io: a handle it did not open')
    return inode
  }

  async open(path: string, flags: 'w' | 'w+' | 'r+'): Promise<FileHandle> {
    this.step(`open ${basename(path)}`)
    const name = this.name(path)
    // Opened readable too ('w' -> 'w+'), so fsync can see what the file holds.
    const fh = await defaultIo.open(path, flags === 'w' ? 'w+' : flags)
    let inode = this.entries.get(name)
    if (inode === undefined) {
      inode = { synced: Buffer.alloc(0) }
      this.entries.set(name, inode)
    }
    this.handles.set(fh, inode)
    return fh
  }

  async write(fh: FileHandle, data: Buffer, position: number): Promise<void> {
    this.step('write')
    this.inodeOf(fh)
    await defaultIo.write(fh, data, position)
  }

  async fsync(fh: FileHandle): Promise<void> {
    this.step('fsync')
    const inode = this.inodeOf(fh)
    if (this.options.fsyncLies) return
    const { size } = await fh.stat()
    const buf = Buffer.alloc(size)
    if (size > 0) await fh.read(buf, 0, size, 0)
    inode.synced = buf
  }

  async truncate(fh: FileHandle, length: number): Promise<void> {
    this.step('truncate')
    this.inodeOf(fh)
    await defaultIo.truncate(fh, length)
  }

  async close(fh: FileHandle): Promise<void> {
    this.handles.delete(fh)
    await fh.close()
  }

  async rename(from: string, to: string): Promise<void> {
    this.step(`rename ${basename(from)}`)
    const inode = this.entries.get(this.name(from))
    await defaultIo.rename(from, to)
    this.entries.delete(this.name(from))
    if (inode !== undefined) this.entries.set(this.name(to), inode)
  }

  async unlink(path: string): Promise<void> {
    this.step(`unlink ${basename(path)}`)
    await defaultIo.unlink(path)
    this.entries.delete(this.name(path))
  }

  async syncDir(dir: string): Promise<void> {
    this.step('syncDir')
    if (dir !== this.dir) throw new Error(`power-loss io: ${dir} is not ${this.dir}`)
    if (this.options.dirSyncLies) return
    this.durableEntries = new Map(this.entries)
  }

  /**
   * Rewrite the directory to what a power cut at this moment leaves. Call it after the spool above
   * has been abandoned (closed or not): the files it still has open are no longer this layer's.
   */
  async powerLoss(): Promise<void> {
    this.cut = true
    this.onCut()
    const current = new Map<Inode, Buffer>()
    for (const [name, inode] of this.entries) {
      current.set(inode, await readFile(join(this.dir, name)).catch(() => inode.synced))
    }
    for (const name of await readdir(this.dir)) await rm(join(this.dir, name), { force: true })
    for (const [name, inode] of this.durableEntries) {
      let content = inode.synced
      const now = current.get(inode)
      if (
        this.options.torn === true &&
        now !== undefined &&
        now.length > content.length &&
        now.subarray(0, content.length).equals(content)
      ) {
        content = now.subarray(0, content.length + Math.floor((now.length - content.length) / 2))
      }
      await writeFile(join(this.dir, name), content)
    }
  }
}
