/**
 * Helpers for tests of authenticated connections to a core: secrets written to files (mode 0600) and
 * read through the real config loader, and the whole daemon started on such a config with its log kept.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config/load-config.js'
import type { EdgebridgeConfig } from '../../src/config/types.js'
import { Daemon } from '../../src/daemon.js'
import { BackendError } from '../../src/errors.js'
import type { SpooledRecord } from '../../src/record.js'
import { captureLog, type CapturedLog } from './log-capture.js'
import { testConfig } from './config.js'

export interface SecretDir {
  dir: string
  /** Writes `content` to a file readable by its owner only and returns its path. */
  write(name: string, content: string): Promise<string>
  remove(): Promise<void>
}

export async function secretDir(): Promise<SecretDir> {
  const dir = await mkdtemp(join(tmpdir(), 'edgebridge-secrets-'))
  return {
    dir,
    write: async (name, content) => {
      const path = join(dir, name)
      await writeFile(path, content, { mode: 0o600 })
      return path
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}

/**
 * The core sections (redis, nats, kafka) exactly as the daemon loads them from `env`, EDGEBRIDGE_*_FILE
 * secrets resolved by the loader; everything else from the test defaults with `overrides`.
 */
export function configFromEnv(
  env: NodeJS.ProcessEnv,
  overrides: Parameters<typeof testConfig>[0] = {},
): EdgebridgeConfig {
  const loaded = loadConfig({ argv: [], env })
  const base = testConfig(overrides)
  return { ...base, redis: loaded.redis, nats: loaded.nats, kafka: loaded.kafka }
}

export async function startLoggedDaemon(
  config: EdgebridgeConfig,
): Promise<{ daemon: Daemon; url: string; log: CapturedLog }> {
  const log = captureLog('info')
  const daemon = await Daemon.start(config, log.logger)
  return { daemon, url: `mqtt://127.0.0.1:${daemon.ingress.ports()[0]}`, log }
}

/** The error code of the forwarder's "core refused the batch" lines, e.g. BACKEND_AUTH. */
export function refusalCodes(log: CapturedLog): Array<{ code: unknown; retriable: unknown }> {
  return log
    .find('core refused the batch')
    .map((l) => ({ code: (l.err as { code?: unknown } | undefined)?.code, retriable: l.retriable }))
}

/** One spooled record for `target`, for sending straight to a backend. */
export function oneRecord(target: string, payload = 'x'): SpooledRecord[] {
  return [
    {
      seq: 1,
      topic: 'auth/test',
      payload: Buffer.from(payload),
      qos: 1,
      retain: false,
      clientId: 'auth-test',
      gatewayId: 'test-gw',
      receivedAt: Date.now(),
      target,
      codec: 'raw',
    },
  ]
}

/** Asserts that `promise` rejects with a non-retriable BACKEND_AUTH. */
export async function rejectsWithAuth(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof BackendError, String(err))
    assert.equal(err.code, 'BACKEND_AUTH', err.message)
    assert.equal(err.retriable, false)
    return true
  })
}
