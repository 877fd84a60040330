/**
 * The commit point: where the oldest record still owed to the core starts, in a small file
 * `<dir>/commit` replaced atomically: write `commit.tmp`, fsync it, rename over `commit`, fsync the
 * directory. A crash leaves either the old or the new file, never a mix.
 *
 * Invariant: the commit file is durable before any segment it makes obsolete is deleted. So a stale
 * commit file can only point too far back (records sent again: duplicates), never too far forward
 * (loss). A missing or damaged file makes recovery start at the oldest segment, for the same reason.
 *
 * Layout, 36 bytes, little-endian. DO NOT REORDER FIELDS.
 *   0   4  magic "EBCP"
 *   4   1  version (COMMIT_VERSION = 1)
 *   5   3  reserved (0)
 *   8   8  segment: firstSeq of the segment the head is in (u64: low u32, high u32)
 *   16  8  offset: byte offset of the head's frame in that segment
 *   24  8  headSeq: every record with seq <= headSeq is committed (or dropped)
 *   32  4  crc32 of bytes 0..31
 */
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import type { SpoolIo } from './spool-io.js'

export const COMMIT_FILE = 'commit'
export const COMMIT_TMP = 'commit.tmp'
const COMMIT_VERSION = 1
const COMMIT_BYTES = 36
const MAGIC = Buffer.from('EBCP', 'latin1')
const TWO_32 = 0x1_0000_0000

export interface CommitPoint {
  segment: number
  offset: number
  headSeq: number
}

function writeU64(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32LE(value % TWO_32, at)
  buf.writeUInt32LE(Math.floor(value / TWO_32), at + 4)
}

function readU64(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at) + buf.readUInt32LE(at + 4) * TWO_32
}

export function encodeCommitPoint(point: CommitPoint): Buffer {
  const buf = Buffer.alloc(COMMIT_BYTES)
  MAGIC.copy(buf, 0)
  buf[4] = COMMIT_VERSION
  writeU64(buf, point.segment, 8)
  writeU64(buf, point.offset, 16)
  writeU64(buf, point.headSeq, 24)
  buf.writeUInt32LE(crc32(buf.subarray(0, 32)), 32)
  return buf
}

/** The decoded point, or a named reason it cannot be trusted. */
export function decodeCommitPoint(
  buf: Buffer,
):
  | { kind: 'ok'; point: CommitPoint }
  | { kind: 'invalid'; reason: 'short' | 'bad-magic' | 'bad-version' | 'checksum' } {
  if (buf.length !== COMMIT_BYTES) return { kind: 'invalid', reason: 'short' }
  if (!buf.subarray(0, 4).equals(MAGIC)) return { kind: 'invalid', reason: 'bad-magic' }
  if (buf[4] !== COMMIT_VERSION) return { kind: 'invalid', reason: 'bad-version' }
  if (crc32(buf.subarray(0, 32)) !== buf.readUInt32LE(32)) return { kind: 'invalid', reason: 'checksum' }
  return {
    kind: 'ok',
    point: { segment: readU64(buf, 8), offset: readU64(buf, 16), headSeq: readU64(buf, 24) },
  }
}

export type CommitRead =
  { kind: 'ok'; point: CommitPoint } | { kind: 'missing' } | { kind: 'invalid'; reason: string }

export async function readCommitPoint(dir: string): Promise<CommitRead> {
  let fh
  try {
    fh = await open(join(dir, COMMIT_FILE), 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' }
    throw err
  }
  try {
    const buf = Buffer.alloc(COMMIT_BYTES + 1)
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0)
    return decodeCommitPoint(buf.subarray(0, bytesRead))
  } finally {
    await fh.close()
  }
}

/** Replace the commit file atomically; `sync` false skips the fsyncs (fsync policy `never`). */
export async function writeCommitPoint(
  io: SpoolIo,
  dir: string,
  point: CommitPoint,
  sync: boolean,
): Promise<void> {
  const tmp = join(dir, COMMIT_TMP)
  const fh = await io.open(tmp, 'w')
  try {
    await io.write(fh, encodeCommitPoint(point), 0)
    if (sync) await io.fsync(fh)
  } finally {
    await io.close(fh)
  }
  await io.rename(tmp, join(dir, COMMIT_FILE))
  if (sync) await io.syncDir(dir)
}
