/**
 * aedes-persistence's own conformance suite (the one every aedes store must pass, written for
 * node:test since aedes-persistence 11) run against the SQLite broker store, each case on a fresh
 * database file. Any failed assertion fails this file.
 */
import { after, test } from 'node:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import abstractSuite from 'aedes-persistence/abstract.js'
import { SqliteStore } from '../../src/ingress/store/sqlite-store.js'
import { silentLogger } from '../../src/observability/logger.js'

const dir = mkdtempSync(join(tmpdir(), 'edgebridge-store-abstract-'))
after(() => rmSync(dir, { recursive: true, force: true }))
let n = 0

abstractSuite({
  test,
  testAsync: true,
  persistence: () =>
    new SqliteStore({
      path: join(dir, `store-${++n}.db`),
      maxQueuedMessages: 100_000,
      maxQueuedBytes: 1024 ** 3,
      maxRetainedMessages: 100_000,
      logger: silentLogger(),
    }),
})
