/** What the broker store counts: every message it does not keep, and every store it could not open. */
export interface StoreCounters {
  /** Queued messages dropped from a persistent session's queue (over a limit, oldest first). */
  queueDropped: number
  queueDroppedBytes: number
  /** Retained messages not kept because store.maxRetainedMessages topics already hold one. */
  retainedRefused: number
  /** Starts at which the store file could not be used (moved aside, or state kept in memory). */
  openFailures: number
}

export function newStoreCounters(): StoreCounters {
  return { queueDropped: 0, queueDroppedBytes: 0, retainedRefused: 0, openFailures: 0 }
}
