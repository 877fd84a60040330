/**
 * Opening the broker store so that it never keeps the gateway from starting.
 *
 * - Every connection sets WAL with `synchronous = FULL` explicitly: better-sqlite3 is compiled with
 *   SQLITE_DEFAULT_WAL_SYNCHRONOUS=1 (NORMAL), under which a committed transaction can be lost on power
 *   loss because the WAL is not fsynced at commit. FULL fsyncs it at every commit, so a transaction that
 *   returned is on the disk: the store's "durable before acknowledged".
 * - A file that is not a store (corrupt, another schema version, a failed quick_check) is moved aside
 *   with its -wal and -shm as `<name>.damaged-<time>` and a new, empty store is created: the operator
 *   keeps the evidence, the devices keep a working broker.
 * - A store that cannot be opened or created for another reason (full disk, a read-only or missing
 *   directory) is left where it is (it may be intact) and the broker state lives in memory until the
 *   next start. Both cases are logged with the reason and counted by the caller.
 */
import Database from 'better-sqlite3'
import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { dirname } from 'node:path'
import { errorMessage } from '../../errors.js'
import { SCHEMA, SCHEMA_VERSION } from './schema.js'

export type StoreDatabase = Database.Database

export interface OpenedStore {
  db: StoreDatabase
  /** Set when the file could not be used: why, and where it went (if it was moved aside). */
  problem?: { reason: string; movedTo?: string; inMemory: boolean }
}

/** SQLite result codes that mean the file itself is bad, as opposed to the disk or the directory. */
const DAMAGED = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_VTAB'])

class DamagedStoreError extends Error {
  override readonly name = 'DamagedStoreError'
}

export function openStoreDatabase(path: string): OpenedStore {
  try {
    return { db: openAt(path) }
  } catch (err) {
    const reason = errorMessage(err)
    const damaged = err instanceof DamagedStoreError || DAMAGED.has((err as { code?: string }).code ?? '')
    if (damaged) {
      const movedTo = moveAside(path)
      try {
        return { db: openAt(path), problem: { reason, movedTo, inMemory: false } }
      } catch (again) {
        return { db: openAt(':memory:'), problem: { reason: errorMessage(again), movedTo, inMemory: true } }
      }
    }
    return { db: openAt(':memory:'), problem: { reason, inMemory: true } }
  }
}

function openAt(path: string): StoreDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  try {
    if (path !== ':memory:') {
      const mode = db.pragma('journal_mode = WAL', { simple: true })
      if (mode !== 'wal') throw new Error(`journal_mode is ${String(mode)}, not wal`)
    }
    db.pragma('synchronous = FULL')
    const check = db.pragma('quick_check', { simple: true })
    if (check !== 'ok') throw new DamagedStoreError(`quick_check: ${String(check)}`)
    db.exec(SCHEMA)
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schemaVersion'").get() as
      { value: string } | undefined
    if (row === undefined) {
      db.prepare("INSERT INTO meta (key, value) VALUES ('schemaVersion', ?)").run(String(SCHEMA_VERSION))
    } else if (row.value !== String(SCHEMA_VERSION)) {
      throw new DamagedStoreError(`schema version ${row.value}, this edgebridge reads ${SCHEMA_VERSION}`)
    }
    return db
  } catch (err) {
    db.close()
    throw err
  }
}

/** Renames the store and its WAL files out of the way; returns the new name of the main file. */
function moveAside(path: string): string | undefined {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const target = `${path}.damaged-${stamp}`
  let moved: string | undefined
  for (const suffix of ['', '-wal', '-shm']) {
    if (!existsSync(path + suffix)) continue
    try {
      renameSync(path + suffix, target + suffix)
      if (suffix === '') moved = target
    } catch {
      // A file that cannot be moved stays; opening it again fails and the state goes to memory.
    }
  }
  return moved
}
