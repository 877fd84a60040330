import * as f from '../formats.js'
import { leaf, type Section } from './leaf.js'

export const forwarderSection: Section = {
  batchMaxRecords: leaf({
    doc: 'Most records sent to the core in one batch.',
    format: f.positiveInt,
    default: 500,
  }),
  batchMaxBytes: leaf({
    doc: 'Most bytes sent to the core in one batch (a single larger record is still sent alone).',
    format: f.positiveBytes,
    default: 1024 * 1024,
  }),
  retryInitialMs: leaf({
    doc: 'First wait before sending a failed batch again; doubles (with jitter) up to retryMaxMs.',
    format: f.durationMs,
    default: 100,
  }),
  retryMaxMs: leaf({
    doc: 'Longest wait between retries of a failed batch.',
    format: f.durationMs,
    default: 30000,
  }),
  replayRateLimit: leaf({
    doc: 'Messages per second while draining a backlog after an outage, so the core and the uplink are not flooded; 0 = unlimited.',
    format: f.nonNegativeInt,
    default: 0,
  }),
  stallLimitMs: leaf({
    doc: "Under systemd's watchdog (WatchdogSec=): how long the forwarder may show no sign of life (a send or a commit that never settles) before the gateway stops its watchdog pings, so systemd restarts it. Longer than any backend's own send timeout.",
    format: f.durationMs,
    default: 120000,
  }),
  drainTimeoutMs: leaf({
    doc: 'On shutdown, how long to keep forwarding what is spooled before closing (what is left stays in the spool for the next start).',
    format: f.durationMs,
    default: 10000,
  }),
}
