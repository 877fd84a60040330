/**
 * Secrets from files: `redis.passwordFile`, `nats.passwordFile`, `nats.tokenFile`,
 * `kafka.sasl.passwordFile`. A secret in a file (mode 0600, or a systemd credential) sits in neither
 * the unit file nor the process environment, where `systemctl show` and /proc/<pid>/environ would
 * reveal it.
 *
 * Resolved once, when the configuration loads: the file's content becomes the inline key's value, so
 * the backends read one field and check-config masks it like any secret. One trailing newline is
 * dropped (`echo secret > file` writes one); anything else, spaces included, is part of the secret.
 * Setting a key and its file both is an error rather than a silent precedence rule.
 */
import { readFileSync } from 'node:fs'
import { ConfigError, errorMessage } from '../errors.js'
import type { EdgebridgeConfig } from './types.js'

interface SecretSlot {
  /** Dotted key of the inline value, e.g. `redis.password`. */
  key: string
  get(c: EdgebridgeConfig): { value: string; file: string }
  set(c: EdgebridgeConfig, value: string): void
}

const SLOTS: readonly SecretSlot[] = [
  {
    key: 'redis.password',
    get: (c) => ({ value: c.redis.password, file: c.redis.passwordFile }),
    set: (c, v) => void (c.redis.password = v),
  },
  {
    key: 'nats.password',
    get: (c) => ({ value: c.nats.password, file: c.nats.passwordFile }),
    set: (c, v) => void (c.nats.password = v),
  },
  {
    key: 'nats.token',
    get: (c) => ({ value: c.nats.token, file: c.nats.tokenFile }),
    set: (c, v) => void (c.nats.token = v),
  },
  {
    key: 'kafka.sasl.password',
    get: (c) => ({ value: c.kafka.sasl.password, file: c.kafka.sasl.passwordFile }),
    set: (c, v) => void (c.kafka.sasl.password = v),
  },
]

/** The secret in `path`, less one trailing newline (LF or CRLF). */
export function readSecretFile(path: string, key: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${JSON.stringify(path)}: ${errorMessage(err)}`, { cause: err })
  }
  const secret = text.replace(/\r?\n$/, '')
  if (secret === '') throw new ConfigError(`${key}: ${JSON.stringify(path)} is empty (expected the secret)`)
  return secret
}

/** Fills each secret from its *File key, in place; throws ConfigError naming the keys on a conflict. */
export function resolveSecretFiles(config: EdgebridgeConfig): void {
  for (const slot of SLOTS) {
    const { value, file } = slot.get(config)
    if (file === '' || file === undefined) continue
    const fileKey = `${slot.key}File`
    if (value !== '') {
      throw new ConfigError(
        `${slot.key} and ${fileKey} are both set: set one of them (the value is not shown)`,
      )
    }
    slot.set(config, readSecretFile(file, fileKey))
  }
}
