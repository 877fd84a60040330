export { createBrokerStore, STORE_FILE, type BrokerStore } from './create-broker-store.js'
export { SqliteStore, type SqliteStoreOptions, type StoreBroker } from './sqlite-store.js'
export type { StoreCounters } from './store-counters.js'
