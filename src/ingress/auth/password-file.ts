/**
 * A Mosquitto password file: one `user:$7$...` (or `$6$...`) line per user; `#` comments and blank
 * lines are allowed. Mosquitto skips a line it cannot decode and logs it; we refuse the whole file
 * instead (AUTH_FILE_INVALID naming file and line), because a silently missing user is a lockout
 * nobody can explain.
 *
 * Verification is CPU work done on every CONNECT. A device fleet that loses its uplink reconnects all
 * at once, so successful checks are remembered for a short while (keyed by an HMAC of the password
 * under a per-process random key: the cache never holds anything that could be replayed elsewhere),
 * and concurrent checks of the same credentials share one computation.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { open, readFile, rename, rm, stat } from 'node:fs/promises'
import { EdgebridgeError } from '../../errors.js'
import { readAuthFile } from './read-auth-file.js'
import {
  DEFAULT_PBKDF2_ITERATIONS,
  hashPassword,
  parsePasswordHash,
  verifyPasswordHash,
  type PasswordHash,
} from './password-hash.js'

/** How long a successful check is remembered. */
export const DEFAULT_VERIFY_CACHE_TTL_MS = 60 * 1000 // 1 minute
/** Upper bound on remembered checks, so the cache cannot grow with the number of distinct passwords tried. */
export const DEFAULT_VERIFY_CACHE_MAX_ENTRIES = 10_000

export interface PasswordFileOptions {
  cacheTtlMs?: number
  cacheMaxEntries?: number
  /** Injected clock for tests. */
  now?: () => number
}

interface Line {
  user: string
  hash: string
}

/** Splits a file's text into entries; throws AUTH_FILE_INVALID with the 1-based line number. */
function parseLines(text: string, file: string): Array<Line & { lineNo: number }> {
  const out: Array<Line & { lineNo: number }> = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '' || line.startsWith('#')) continue
    const colon = line.indexOf(':')
    const user = colon < 0 ? '' : line.slice(0, colon).trim()
    const hash = colon < 0 ? '' : line.slice(colon + 1).trim()
    if (user === '' || hash === '') {
      throw new EdgebridgeError(
        'AUTH_FILE_INVALID',
        `${file}:${i + 1}: expected "user:$7$..." (a mosquitto_passwd line)`,
      )
    }
    out.push({ user, hash, lineNo: i + 1 })
  }
  return out
}

export class PasswordFile {
  readonly file: string
  private readonly users: Map<string, PasswordHash>
  private readonly cacheKey = randomBytes(32)
  private readonly verified = new Map<string, number>() // cache key -> expiry (ms)
  private readonly pending = new Map<string, Promise<boolean>>()
  private readonly ttlMs: number
  private readonly maxEntries: number
  private readonly now: () => number
  // Checked when the user is unknown, so a missing user costs as much as a wrong password.
  private static readonly decoy: PasswordHash = {
    type: 'sha512-pbkdf2',
    iterations: DEFAULT_PBKDF2_ITERATIONS,
    salt: Buffer.alloc(12),
    hash: Buffer.alloc(64),
  }

  constructor(file: string, users: Map<string, PasswordHash>, options: PasswordFileOptions = {}) {
    this.file = file
    this.users = users
    this.ttlMs = options.cacheTtlMs ?? DEFAULT_VERIFY_CACHE_TTL_MS
    this.maxEntries = options.cacheMaxEntries ?? DEFAULT_VERIFY_CACHE_MAX_ENTRIES
    this.now = options.now ?? Date.now
  }

  /** Parses file text (exported for tests and for reloading from a string). */
  static parse(text: string, file: string, options: PasswordFileOptions = {}): PasswordFile {
    const users = new Map<string, PasswordHash>()
    for (const { user, hash, lineNo } of parseLines(text, file)) {
      try {
        users.set(user, parsePasswordHash(hash))
      } catch (err) {
        throw new EdgebridgeError(
          'AUTH_FILE_INVALID',
          `${file}:${lineNo}: user "${user}": ${(err as Error).message}`,
        )
      }
    }
    return new PasswordFile(file, users, options)
  }

  get size(): number {
    return this.users.size
  }

  has(user: string): boolean {
    return this.users.has(user)
  }

  /** True when `user` exists and `password` is theirs. */
  async verify(user: string, password: string | Buffer): Promise<boolean> {
    const pw = Buffer.isBuffer(password) ? password.toString('utf8') : password
    const key = createHmac('sha256', this.cacheKey).update(user).update('\0').update(pw).digest('base64')
    const expiry = this.verified.get(key)
    if (expiry !== undefined) {
      if (expiry > this.now()) return true
      this.verified.delete(key)
    }
    const running = this.pending.get(key)
    if (running) return running
    const check = this.check(user, pw).finally(() => this.pending.delete(key))
    this.pending.set(key, check)
    const ok = await check
    if (ok) this.remember(key)
    return ok
  }

  private async check(user: string, password: string): Promise<boolean> {
    const entry = this.users.get(user)
    if (!entry) {
      await verifyPasswordHash(password, PasswordFile.decoy)
      return false
    }
    return verifyPasswordHash(password, entry)
  }

  private remember(key: string): void {
    if (this.ttlMs <= 0) return
    if (this.verified.size >= this.maxEntries) {
      // Map iterates in insertion order: drop the oldest.
      const oldest = this.verified.keys().next().value
      if (oldest !== undefined) this.verified.delete(oldest)
    }
    this.verified.set(key, this.now() + this.ttlMs)
  }
}

/** Reads and parses a password file; a missing or unreadable file is AUTH_FILE_INVALID too. */
export async function loadPasswordFile(
  file: string,
  options: PasswordFileOptions = {},
): Promise<PasswordFile> {
  const text = await readAuthFile(file, 'AUTH_FILE_INVALID', 'password file')
  return PasswordFile.parse(text, file, options)
}

/** Usernames go into a `user:` line: the same rules as mosquitto_passwd. */
export function checkUsername(user: string): void {
  if (user === '') throw new EdgebridgeError('AUTH_FILE_INVALID', 'username must not be empty')
  if (user.includes(':')) throw new EdgebridgeError('AUTH_FILE_INVALID', 'username must not contain ":"')
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(user))
    throw new EdgebridgeError('AUTH_FILE_INVALID', 'username must not contain control characters')
  if (Buffer.byteLength(user) > 65535)
    throw new EdgebridgeError('AUTH_FILE_INVALID', 'username is longer than 65535 bytes')
}

async function readExisting(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw err
  }
}

/** Writes the new content next to the file and renames it over, so a reader never sees half a file. */
async function replaceFile(file: string, content: string): Promise<void> {
  const mode = await stat(file).then(
    (s) => s.mode & 0o777,
    () => 0o600, // a new password file is readable by its owner only, as mosquitto_passwd's umask(077)
  )
  const tmp = `${file}.tmp-${process.pid}`
  const fh = await open(tmp, 'w', mode)
  try {
    await fh.writeFile(content)
    await fh.sync()
  } finally {
    await fh.close()
  }
  try {
    await rename(tmp, file)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

export interface WriteEntryOptions {
  /** Start a new file holding only this user (mosquitto_passwd -c). */
  create?: boolean
  iterations?: number
}

/**
 * Adds or replaces `user`'s line with a new `$7$` hash; other lines (comments included) are kept as
 * they are, in place.
 */
export async function writePasswordEntry(
  file: string,
  user: string,
  password: string,
  options: WriteEntryOptions = {},
): Promise<void> {
  checkUsername(user)
  const entry = `${user}:${await hashPassword(password, options.iterations ?? DEFAULT_PBKDF2_ITERATIONS)}`
  const existing = options.create ? '' : await readExisting(file)
  const lines = existing === '' ? [] : existing.replace(/\n$/, '').split('\n')
  let found = false
  const out = lines.map((raw) => {
    const colon = raw.indexOf(':')
    if (!raw.trim().startsWith('#') && colon >= 0 && raw.slice(0, colon).trim() === user) {
      found = true
      return entry
    }
    return raw
  })
  if (!found) out.push(entry)
  await replaceFile(file, out.join('\n') + '\n')
}

/** Removes `user`'s line; false when there was none (the file is left untouched). */
export async function deletePasswordEntry(file: string, user: string): Promise<boolean> {
  const existing = await readFile(file, 'utf8')
  const lines = existing.replace(/\n$/, '').split('\n')
  const out = lines.filter((raw) => {
    const colon = raw.indexOf(':')
    return raw.trim().startsWith('#') || colon < 0 || raw.slice(0, colon).trim() !== user
  })
  if (out.length === lines.length) return false
  await replaceFile(file, out.length === 0 ? '' : out.join('\n') + '\n')
  return true
}
