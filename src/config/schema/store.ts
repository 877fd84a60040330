import * as f from '../formats.js'
import { leaf, MiB, storageKind, type Section } from './leaf.js'

/** The broker store (ingress/store/): retained messages, persistent sessions and their queues. */
export const storeSection: Section = {
  kind: storageKind(
    "`disk` keeps retained messages, persistent sessions (clean=false) with their subscriptions and queued QoS 1/2 messages, inbound QoS 2 state and wills in `<dataDir>/broker-state.db` (SQLite, fsynced before anything it holds is acknowledged); `memory` keeps them in aedes' in-memory store and loses them on restart.",
  ),
  maxQueuedMessages: leaf({
    doc: 'Most QoS 1/2 messages queued for one persistent session; beyond it the oldest is dropped (counted and logged).',
    format: f.positiveInt,
    default: 1000,
  }),
  maxQueuedBytes: leaf({
    doc: 'Most bytes (payload + topic) queued for one persistent session; beyond it the oldest are dropped (counted and logged).',
    format: f.positiveBytes,
    default: 16 * MiB,
  }),
  maxRetainedMessages: leaf({
    doc: 'Most topics that keep a retained message; a retained message for a new topic beyond it is delivered but not kept (counted and logged). Updates and deletions of kept topics always apply.',
    format: f.positiveInt,
    default: 10000,
  }),
}
