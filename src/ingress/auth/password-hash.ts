/**
 * The password hash format of Mosquitto 2's `mosquitto_passwd`, so an existing password file works
 * unchanged and files we write work in Mosquitto:
 *
 *   $7$<iterations>$<base64 salt>$<base64 hash>   PBKDF2-HMAC-SHA512 (mosquitto_passwd's default)
 *   $6$<base64 salt>$<base64 hash>                SHA512(password || salt), files from Mosquitto 1.x
 *
 * The salt is 12 random bytes and the hash 64 bytes; Mosquitto rejects entries whose decoded salt or
 * hash has another length, and so do we. PBKDF2 runs through the async `crypto.pbkdf2` so a login
 * never blocks the event loop that carries every other client's traffic.
 */
import { createHash, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto'
import { promisify } from 'node:util'

const pbkdf2Async = promisify(pbkdf2)

/** mosquitto_passwd 2.0's PW_DEFAULT_ITERATIONS: what its files carry unless `-I` was given. */
export const DEFAULT_PBKDF2_ITERATIONS = 101
export const SALT_BYTES = 12
export const HASH_BYTES = 64

export type PasswordHash =
  | { type: 'sha512'; salt: Buffer; hash: Buffer }
  | { type: 'sha512-pbkdf2'; iterations: number; salt: Buffer; hash: Buffer }

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/

function decodeBase64(text: string, bytes: number, what: string): Buffer {
  if (!BASE64.test(text)) throw new Error(`${what} is not base64`)
  const buf = Buffer.from(text, 'base64')
  if (buf.length !== bytes) throw new Error(`${what} is ${buf.length} bytes, expected ${bytes}`)
  return buf
}

/** Parses the part after `user:`; throws an Error saying what is wrong (the file reader adds file and line). */
export function parsePasswordHash(text: string): PasswordHash {
  const parts = text.split('$')
  if (parts[0] !== '')
    throw new Error('password hash must start with $6$ or $7$ (plain-text passwords are not accepted)')
  if (parts[1] === '7') {
    if (parts.length !== 5) throw new Error('expected $7$<iterations>$<salt>$<hash>')
    const iterations = Number(parts[2])
    if (!Number.isSafeInteger(iterations) || iterations < 1)
      throw new Error(`invalid iteration count "${parts[2]}"`)
    return {
      type: 'sha512-pbkdf2',
      iterations,
      salt: decodeBase64(parts[3]!, SALT_BYTES, 'salt'),
      hash: decodeBase64(parts[4]!, HASH_BYTES, 'hash'),
    }
  }
  if (parts[1] === '6') {
    if (parts.length !== 4) throw new Error('expected $6$<salt>$<hash>')
    return {
      type: 'sha512',
      salt: decodeBase64(parts[2]!, SALT_BYTES, 'salt'),
      hash: decodeBase64(parts[3]!, HASH_BYTES, 'hash'),
    }
  }
  throw new Error(`unknown password hash type "$${parts[1] ?? ''}$" (expected $6$ or $7$)`)
}

async function digest(password: string, entry: PasswordHash): Promise<Buffer> {
  if (entry.type === 'sha512-pbkdf2')
    return pbkdf2Async(password, entry.salt, entry.iterations, HASH_BYTES, 'sha512')
  return createHash('sha512').update(password).update(entry.salt).digest()
}

/** True when `password` matches; the comparison takes the same time wherever the first difference is. */
export async function verifyPasswordHash(password: string, entry: PasswordHash): Promise<boolean> {
  const candidate = await digest(password, entry)
  return candidate.length === entry.hash.length && timingSafeEqual(candidate, entry.hash)
}

/** A new `$7$` hash string with a fresh random salt, as `mosquitto_passwd` writes it. */
export async function hashPassword(
  password: string,
  iterations = DEFAULT_PBKDF2_ITERATIONS,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const hash = await pbkdf2Async(password, salt, iterations, HASH_BYTES, 'sha512')
  return `$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`
}
