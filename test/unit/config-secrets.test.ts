/**
 * Secrets from files (redis.passwordFile, nats.passwordFile, nats.tokenFile, kafka.sasl.passwordFile):
 * read at load into the inline key, one trailing newline dropped, a conflict with the inline key is an
 * error naming both keys, and the resolved secret is masked like any other.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../../src/errors.js'
import { loadConfig, maskSecrets } from '../../src/config/index.js'
import { MASK } from '../../src/config/mask-secrets.js'

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'edgebridge-secrets-'))
  try {
    fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function secretFile(dir: string, name: string, content: string): string {
  const path = join(dir, name)
  writeFileSync(path, content, { mode: 0o600 })
  return path
}

test('config - every secret file is read into its key, one trailing newline dropped', () => {
  withDir((dir) => {
    const c = loadConfig({
      argv: [],
      env: {
        EDGEBRIDGE_REDIS_PASSWORD_FILE: secretFile(dir, 'redis', 'redis-pw\n'),
        EDGEBRIDGE_NATS_USER: 'edge',
        EDGEBRIDGE_NATS_PASSWORD_FILE: secretFile(dir, 'nats', 'nats-pw\r\n'),
        EDGEBRIDGE_KAFKA_SASL_MECHANISM: 'scram-sha-256',
        EDGEBRIDGE_KAFKA_SASL_USERNAME: 'edge',
        EDGEBRIDGE_KAFKA_SASL_PASSWORD_FILE: secretFile(dir, 'kafka', 'kafka-pw'),
      },
    })
    assert.equal(c.redis.password, 'redis-pw')
    assert.equal(c.nats.password, 'nats-pw')
    assert.equal(c.kafka.sasl.password, 'kafka-pw')
    assert.equal(c.redis.passwordFile, join(dir, 'redis'), 'the file key stays, for the log')
  })
})

test('config - nats.tokenFile is read into nats.token, from a config file too', () => {
  withDir((dir) => {
    const tokenPath = secretFile(dir, 'token', 's3cret token \n\n')
    const configPath = join(dir, 'edgebridge.json')
    writeFileSync(configPath, JSON.stringify({ nats: { tokenFile: tokenPath } }))
    const c = loadConfig({ argv: [], env: {}, configFile: configPath })
    // Only one newline is dropped: anything else, spaces included, belongs to the secret.
    assert.equal(c.nats.token, 's3cret token \n')
  })
})

test('config - a secret and its file both set is an error naming both keys, without the value', () => {
  withDir((dir) => {
    const cases: Array<[NodeJS.ProcessEnv, string]> = [
      [
        { EDGEBRIDGE_REDIS_PASSWORD: 'inline-pw', EDGEBRIDGE_REDIS_PASSWORD_FILE: secretFile(dir, 'a', 'x') },
        'redis.password',
      ],
      [
        { EDGEBRIDGE_NATS_PASSWORD: 'inline-pw', EDGEBRIDGE_NATS_PASSWORD_FILE: secretFile(dir, 'b', 'x') },
        'nats.password',
      ],
      [
        { EDGEBRIDGE_NATS_TOKEN: 'inline-pw', EDGEBRIDGE_NATS_TOKEN_FILE: secretFile(dir, 'c', 'x') },
        'nats.token',
      ],
      [
        {
          EDGEBRIDGE_KAFKA_SASL_PASSWORD: 'inline-pw',
          EDGEBRIDGE_KAFKA_SASL_PASSWORD_FILE: secretFile(dir, 'd', 'x'),
        },
        'kafka.sasl.password',
      ],
    ]
    for (const [env, key] of cases) {
      assert.throws(
        () => loadConfig({ argv: [], env }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, String(err))
          assert.ok(err.message.includes(`${key} and ${key}File`), err.message)
          assert.ok(!err.message.includes('inline-pw'), 'the secret is not echoed')
          return true
        },
      )
    }
  })
})

test('config - a missing or empty secret file stops start-up naming the key', () => {
  withDir((dir) => {
    assert.throws(
      () => loadConfig({ argv: [], env: { EDGEBRIDGE_REDIS_PASSWORD_FILE: join(dir, 'nope') } }),
      (err: unknown) => err instanceof ConfigError && /redis\.passwordFile/.test(err.message),
    )
    assert.throws(
      () => loadConfig({ argv: [], env: { EDGEBRIDGE_NATS_TOKEN_FILE: secretFile(dir, 'empty', '\n') } }),
      (err: unknown) => err instanceof ConfigError && /nats\.tokenFile.*empty/.test(err.message),
    )
  })
})

test('config - a secret read from a file is masked like an inline one', () => {
  withDir((dir) => {
    const c = loadConfig({
      argv: [],
      env: {
        EDGEBRIDGE_REDIS_PASSWORD_FILE: secretFile(dir, 'redis', 'file-redis-pw\n'),
        EDGEBRIDGE_NATS_TOKEN_FILE: secretFile(dir, 'token', 'file-nats-token\n'),
        EDGEBRIDGE_KAFKA_SASL_MECHANISM: 'plain',
        EDGEBRIDGE_KAFKA_SASL_USERNAME: 'edge',
        EDGEBRIDGE_KAFKA_SASL_PASSWORD_FILE: secretFile(dir, 'kafka', 'file-kafka-pw\n'),
      },
    })
    const masked = maskSecrets(c) as typeof c
    const text = JSON.stringify(masked)
    for (const secret of ['file-redis-pw', 'file-nats-token', 'file-kafka-pw'])
      assert.ok(!text.includes(secret), secret)
    assert.equal(masked.redis.password, MASK)
    assert.equal(masked.redis.passwordFile, join(dir, 'redis'), 'the path is not a secret')
  })
})
