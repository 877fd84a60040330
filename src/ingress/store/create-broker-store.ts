/**
 * The broker store the configuration asks for: the durable SQLite store in `<dataDir>/broker-state.db`
 * (`store.kind = disk`), or aedes' own in-memory store (`memory`, or no dataDir), which keeps nothing
 * across a restart and has no limits.
 */
import { join } from 'node:path'
import type { EdgebridgeConfig } from '../../config/types.js'
import type { Logger } from '../../observability/logger.js'
import { SqliteStore } from './sqlite-store.js'
import { newStoreCounters, type StoreCounters } from './store-counters.js'

export const STORE_FILE = 'broker-state.db'

export interface BrokerStore {
  /** aedes' `persistence` option; undefined: aedes' in-memory store. */
  readonly persistence: SqliteStore | undefined
  readonly counters: StoreCounters
  /**
   * Makes a QoS 1 PUBLISH's retained copy and queued copies durable before its PUBACK: done when it
   * returns (it throws when it cannot).
   */
  storeBeforeAck(packet: Record<string, unknown>): void
  /** Closes the store once the broker is closed. Safe to call twice. */
  close(): Promise<void>
}

export function createBrokerStore(config: EdgebridgeConfig, logger: Logger): BrokerStore {
  if (config.store.kind === 'memory' || config.dataDir === '') {
    return {
      persistence: undefined,
      counters: newStoreCounters(),
      storeBeforeAck: () => undefined,
      close: async () => undefined,
    }
  }
  const store = new SqliteStore({
    path: join(config.dataDir, STORE_FILE),
    maxQueuedMessages: config.store.maxQueuedMessages,
    maxQueuedBytes: config.store.maxQueuedBytes,
    maxRetainedMessages: config.store.maxRetainedMessages,
    logger,
  })
  return {
    persistence: store,
    counters: store.counters,
    storeBeforeAck: (packet) => store.storeBeforeAck(packet),
    close: () => store.destroy(),
  }
}
