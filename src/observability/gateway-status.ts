/**
 * The gateway's state as a person (the status page, `edgebridge status`), systemd (STATUS=) and an
 * orchestrator (/readyz) ask for it, computed from the same sources as the metrics.
 *
 * Readiness: `ready` when the spool is open and writable and every listener is bound; `degraded`
 * when, in addition, the core is unreachable or refuses the batch: the gateway is doing its job by
 * spooling, and restarting it would not bring the core back (so /readyz stays 200); `not_ready` when
 * it cannot take data (a spool whose disk fails, listeners closed while stopping): 503.
 */
import type { DeviceSession } from './device-activity.js'
import type { MetricSources } from './metrics.js'

export type Readiness = 'ready' | 'degraded' | 'not_ready'

export interface ReadinessReport {
  status: Readiness
  components: {
    spool: { status: 'ok' | 'failing' | 'closed'; depthRecords: number; oldestAgeSeconds: number }
    listeners: { status: 'ok' | 'closed'; ports: number[] }
    core: { status: 'connected' | 'disconnected'; backend: string; forwarder: string }
  }
}

export interface GatewaySummary {
  gatewayId: string
  version: string
  uptimeSeconds: number
  readiness: ReadinessReport
  spool: {
    depthRecords: number
    depthBytes: number
    capacityBytes: number
    oldestAgeSeconds: number
  }
  /** Totals since start. */
  totals: {
    received: number
    forwarded: number
    deadLettered: number
    dropped: Record<string, number>
    refused: number
  }
  devices: DeviceSession[]
}

/** What readiness needs beyond the metric sources: whether the daemon's parts are open. */
export interface StatusSources extends MetricSources {
  /** Epoch ms the daemon started. */
  startedAt: number
  /** Listener ports, when every listener is bound; undefined once they are closed. */
  listening(): number[] | undefined
  /** False once the daemon is stopping (the spool is about to close). */
  running(): boolean
}

export function readiness(s: StatusSources): ReadinessReport {
  const stats = s.spool.stats()
  const ports = s.listening()
  const spoolStatus = !s.running() ? 'closed' : stats.writeFailing === true ? 'failing' : 'ok'
  const connected = s.backend.isConnected()
  const forwarder = s.forwarder.getState()
  const coreOk = connected && forwarder !== 'blocked' && forwarder !== 'retrying'
  const status: Readiness =
    spoolStatus !== 'ok' || ports === undefined ? 'not_ready' : coreOk ? 'ready' : 'degraded'
  return {
    status,
    components: {
      spool: {
        status: spoolStatus,
        depthRecords: stats.depthRecords,
        oldestAgeSeconds: stats.oldestAgeMs / 1000,
      },
      listeners: { status: ports === undefined ? 'closed' : 'ok', ports: ports ?? [] },
      core: { status: connected ? 'connected' : 'disconnected', backend: s.backend.name, forwarder },
    },
  }
}

export function gatewaySummary(s: StatusSources): GatewaySummary {
  const stats = s.spool.stats()
  const c = s.ingress.counters()
  const refused =
    (c.publish?.tooLargeForCore ?? 0) +
    (c.publish?.denied ?? 0) +
    (c.publish?.unrouted ?? 0) +
    (c.clients?.oversizePackets ?? 0)
  return {
    gatewayId: s.gatewayId,
    version: s.version,
    uptimeSeconds: Math.round((Date.now() - s.startedAt) / 1000),
    readiness: readiness(s),
    spool: {
      depthRecords: stats.depthRecords,
      depthBytes: stats.depthBytes,
      capacityBytes: s.spoolMaxBytes,
      oldestAgeSeconds: stats.oldestAgeMs / 1000,
    },
    totals: {
      received: s.activity.publishesByQos.reduce((a, b) => a + b, 0),
      forwarded: s.forwarder.counters.forwarded,
      deadLettered: s.forwarder.counters.deadLettered,
      dropped: { ...stats.drops },
      refused,
    },
    devices: s.activity.devices(),
  }
}

/** One line for systemd's STATUS= and the first line of `edgebridge status`. */
export function summaryLine(summary: GatewaySummary): string {
  const core = summary.readiness.components.core
  const n = summary.devices.length
  const backlog = summary.spool.depthRecords
  const age = summary.spool.oldestAgeSeconds
  return (
    `${n} device${n === 1 ? '' : 's'}, backlog ${backlog} record${backlog === 1 ? '' : 's'}` +
    (backlog > 0 ? ` (oldest ${Math.round(age)} s)` : '') +
    `, core ${core.backend} ${core.status}` +
    (summary.readiness.status === 'ready' ? '' : ` [${summary.readiness.status}]`)
  )
}
