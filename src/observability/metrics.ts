/**
 * The gateway's Prometheus metrics (served at /metrics by src/http/), with prom-client and its
 * default process and Node.js metrics.
 *
 * Conventions (prometheus.io/docs/practices/naming): the `edgebridge_` prefix, base units
 * (`_seconds`, `_bytes`), counters end in `_total`, and labels only from bounded sets: the listener
 * (`type://host:port`, from the configuration), the route's name, a reason from a fixed list. Never a
 * topic or a client id: one series per device would grow without bound.
 *
 * Two kinds of figures:
 * - events timed where they happen (an fsync, a send, a confirmation): histograms fed through the
 *   observers the spool and the forwarder call (`spoolObserver`, `forwarderObserver`);
 * - counts the components already keep as plain numbers (ingress, spool, forwarder, downlink,
 *   requests): read when Prometheus scrapes (`collect`), so the message path pays nothing for them.
 *
 * The accounting identity (DESIGN.md invariant 8), checked from a scrape by a test:
 *
 *   edgebridge_spool_recovered_records + edgebridge_spool_appended_records_total
 *     = edgebridge_forwarded_records_total + edgebridge_dead_lettered_records_total
 *       + edgebridge_spool_depth_records
 *       + edgebridge_spool_dropped_records_total{reason="drop-oldest"|"corrupt"}
 *       + the drop-newest records the spool had admitted (a disk that filled under them)
 *
 * `edgebridge_spool_dropped_records_total{reason="drop-newest"}` counts mostly records refused before
 * they were admitted (acknowledged to the device, never given a seq), so they are outside the left side.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { ForwarderObserver } from '../forwarder/forwarder.js'
import type { RequestCounters } from '../requests/requests.js'
import type { SpooledRecord } from '../record.js'
import type { SpoolObserver, SpoolStats } from '../spool/spool.js'
import type { DeviceActivity } from './device-activity.js'

/** What the metrics read at scrape time: the daemon's components, seen through what they count. */
export interface MetricSources {
  gatewayId: string
  version: string
  backend: { name: string; isConnected(): boolean }
  spool: { stats(): SpoolStats }
  spoolMaxBytes: number
  forwarder: {
    counters: { forwarded: number; batches: number; sendFailures: number; deadLettered: number }
    getState(): string
  }
  ingress: {
    counters(): {
      publish?: { unrouted: number; denied: number; tooLargeForCore: number } | undefined
      clients?: { closedOnError: number; oversizePackets: number } | undefined
      auth?: { badCredentials: number; notAuthorized: number; subscribeDenied: number } | undefined
      admission?: { refusedOverCap: number; refusedBanned: number } | undefined
      store?: { queueDropped: number; retainedRefused: number } | undefined
    }
  }
  activity: DeviceActivity
  downlink: { counters: { received: number; delivered: number; failed: number } }
  requests?: {
    counters: Pick<
      RequestCounters,
      | 'received'
      | 'delivered'
      | 'answersByStatus'
      | 'timeouts'
      | 'noDevice'
      | 'overLimit'
      | 'badRequest'
      | 'lateAnswers'
      | 'unmatchedAnswers'
    >
    inFlight(): number
  }
  /** The status page's event streams, when the HTTP listener serves them. */
  statusPage?: { size: number; droppedTotal: number; buffered(): { bytes: number; events: number } }
}

type Labels = Record<string, string | number>
type Series = Array<[Labels, number]>

/** Seconds: from 100 µs (an fsync on a fast SSD) to 10 s (a struggling SD card). */
const FSYNC_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
]
/** Records per group commit: 1 (idle) to thousands (a burst). */
const GROUP_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096]
/** Seconds for one send to the core. */
const SEND_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
/** Seconds from receipt to core confirmation: milliseconds live, up to days after an outage. */
const AGE_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400,
  86400,
]
/** Seconds from a core request to the device's answer: a millisecond on a LAN, up to the timeout. */
const ROUND_TRIP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

export class GatewayMetrics {
  readonly registry = new Registry()
  private sources: MetricSources | undefined
  private lastConfirmedAt = 0
  private readonly fsyncSeconds: Histogram
  private readonly groupRecords: Histogram
  private readonly sendSeconds: Histogram
  private readonly endToEndSeconds: Histogram
  /**
   * Publishes matched per route, counted in a plain Map and read at scrape time: a prom-client
   * Counter with a label hashes the label set on every inc(), once per device message.
   */
  private readonly routedCounts = new Map<string, number>()
  private readonly requestRoundTripSeconds: Histogram

  constructor() {
    collectDefaultMetrics({ register: this.registry })
    const registers = [this.registry]
    this.fsyncSeconds = new Histogram({
      name: 'edgebridge_spool_fsync_duration_seconds',
      help: 'Duration of each spool fsync.',
      buckets: FSYNC_BUCKETS,
      registers,
    })
    this.groupRecords = new Histogram({
      name: 'edgebridge_spool_group_commit_records',
      help: 'Records written per group commit (one write; one fsync covers it with spool.fsync=always).',
      buckets: GROUP_BUCKETS,
      registers,
    })
    this.sendSeconds = new Histogram({
      name: 'edgebridge_forwarder_send_duration_seconds',
      help: 'Duration of each batch send to the core, confirmed or failed.',
      labelNames: ['outcome'],
      buckets: SEND_BUCKETS,
      registers,
    })
    this.endToEndSeconds = new Histogram({
      name: 'edgebridge_forwarder_end_to_end_age_seconds',
      help: 'Age of each record when the core confirmed it: from receipt from the device to the core ack.',
      buckets: AGE_BUCKETS,
      registers,
    })
    this.requestRoundTripSeconds = new Histogram({
      name: 'edgebridge_request_round_trip_seconds',
      help: "Round trip of each request a device answered: from the core's request to the device's answer.",
      buckets: ROUND_TRIP_BUCKETS,
      registers,
    })
    this.defineScraped()
  }

  /** A device answered a request after `ms` milliseconds (Requests' onRoundTrip). */
  readonly requestRoundTrip = (ms: number): void => this.requestRoundTripSeconds.observe(ms / 1000)

  /** The components to read at each scrape; until attached, the scraped families are empty. */
  attach(sources: MetricSources): void {
    this.sources = sources
  }

  readonly spoolObserver: SpoolObserver = {
    fsynced: (seconds) => this.fsyncSeconds.observe(seconds),
    groupWritten: (records) => this.groupRecords.observe(records),
  }

  readonly forwarderObserver: ForwarderObserver = {
    sent: (seconds, ok) => this.sendSeconds.observe({ outcome: ok ? 'confirmed' : 'failed' }, seconds),
    confirmed: (batch: readonly SpooledRecord[]) => {
      const now = Date.now()
      this.lastConfirmedAt = now
      for (const record of batch) this.endToEndSeconds.observe(Math.max(0, now - record.receivedAt) / 1000)
    },
  }

  /** A publish matched `route` (the router, wrapped in daemon.ts). */
  routedTo(route: string): void {
    this.routedCounts.set(route, (this.routedCounts.get(route) ?? 0) + 1)
  }

  /** The Prometheus text exposition. */
  scrape(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }

  private defineScraped(): void {
    const gauge = (
      name: string,
      help: string,
      read: (m: MetricSources) => number | Series,
      labelNames: string[] = [],
    ) => this.sourced('gauge', name, help, labelNames, read)
    const counter = (
      name: string,
      help: string,
      read: (m: MetricSources) => number | Series,
      labelNames: string[] = [],
    ) => this.sourced('counter', name, help, labelNames, read)

    counter(
      'edgebridge_routed_publishes_total',
      'Device publishes matched by each route (routes[].name, route-<index> or default).',
      () => [...this.routedCounts].map(([route, n]): [Labels, number] => [{ route }, n]),
      ['route'],
    )
    gauge(
      'edgebridge_info',
      'Always 1; the labels say which gateway, version and backend this is.',
      (m) => [[{ gateway_id: m.gatewayId, version: m.version, backend: m.backend.name }, 1]],
      ['gateway_id', 'version', 'backend'],
    )

    // Devices
    gauge(
      'edgebridge_devices_connected',
      'Devices connected now, per listener.',
      (m) => [...m.activity.connectedByListener()].map(([listener, n]) => [{ listener }, n]),
      ['listener'],
    )
    counter(
      'edgebridge_device_connections_accepted_total',
      'Device connections accepted (CONNACK 0), per listener.',
      (m) => [...m.activity.acceptedByListener].map(([listener, n]) => [{ listener }, n]),
      ['listener'],
    )
    counter(
      'edgebridge_device_connections_refused_total',
      'Device connections refused, by reason.',
      (m) => {
        const c = m.ingress.counters()
        return [
          [{ reason: 'bad_credentials' }, c.auth?.badCredentials ?? 0],
          [{ reason: 'not_authorized' }, c.auth?.notAuthorized ?? 0],
          [{ reason: 'over_connection_cap' }, c.admission?.refusedOverCap ?? 0],
          [{ reason: 'banned_flapping' }, c.admission?.refusedBanned ?? 0],
        ]
      },
      ['reason'],
    )
    counter(
      'edgebridge_auth_failures_total',
      'CONNECTs refused for a bad user name or password (CONNACK 4).',
      (m) => m.ingress.counters().auth?.badCredentials ?? 0,
    )
    counter(
      'edgebridge_subscribes_denied_total',
      'Subscriptions the ACL refused (SUBACK 0x80).',
      (m) => m.ingress.counters().auth?.subscribeDenied ?? 0,
    )
    counter(
      'edgebridge_device_publishes_received_total',
      'Publishes received from devices, by QoS.',
      (m) => m.activity.publishesByQos.map((n, qos) => [{ qos }, n] as [Labels, number]),
      ['qos'],
    )
    counter(
      'edgebridge_device_disconnects_on_error_total',
      'Devices closed for a malformed or oversize packet or a protocol violation.',
      (m) => m.ingress.counters().clients?.closedOnError ?? 0,
    )

    // Refused before PUBACK
    counter(
      'edgebridge_publishes_refused_total',
      'Publishes refused before acknowledgement, by reason.',
      (m) => {
        const c = m.ingress.counters()
        return [
          [{ reason: 'too_large_for_core' }, c.publish?.tooLargeForCore ?? 0],
          [{ reason: 'packet_too_large' }, c.clients?.oversizePackets ?? 0],
          [{ reason: 'denied' }, c.publish?.denied ?? 0],
          [{ reason: 'unrouted' }, c.publish?.unrouted ?? 0],
        ]
      },
      ['reason'],
    )

    // Spool
    gauge(
      'edgebridge_spool_depth_records',
      'Records in the spool not yet confirmed by the core.',
      (m) => m.spool.stats().depthRecords,
    )
    gauge(
      'edgebridge_spool_depth_bytes',
      'Bytes in the spool not yet confirmed by the core.',
      (m) => m.spool.stats().depthBytes,
    )
    gauge(
      'edgebridge_spool_capacity_bytes',
      'Most bytes the spool may hold (spool.maxBytes).',
      (m) => m.spoolMaxBytes,
    )
    gauge(
      'edgebridge_spool_oldest_record_age_seconds',
      'Age of the oldest record not yet confirmed by the core; 0 when empty.',
      (m) => m.spool.stats().oldestAgeMs / 1000,
    )
    counter(
      'edgebridge_spool_appended_records_total',
      'Records admitted to the spool (given a seq) since start.',
      (m) => m.spool.stats().appendedTotal,
    )
    counter(
      'edgebridge_spool_written_bytes_total',
      'Bytes written to the spool files since start.',
      (m) => m.spool.stats().bytesWritten,
    )
    counter(
      'edgebridge_spool_dropped_records_total',
      'Records the spool gave up, by reason (spool.whenFull, or a corrupt frame).',
      (m) => Object.entries(m.spool.stats().drops).map(([reason, n]) => [{ reason }, n]),
      ['reason'],
    )
    gauge(
      'edgebridge_spool_recovered_records',
      'Unconfirmed records the last start found in the spool.',
      (m) => m.spool.stats().recovery?.records ?? 0,
    )
    gauge(
      'edgebridge_spool_recovered_bytes',
      'Bytes of unconfirmed records the last start found in the spool.',
      (m) => m.spool.stats().recovery?.bytes ?? 0,
    )
    gauge(
      'edgebridge_spool_recovery_truncated_bytes',
      'Bytes of a torn tail the last start cut off.',
      (m) => m.spool.stats().recovery?.truncatedBytes ?? 0,
    )
    gauge(
      'edgebridge_spool_recovery_duration_seconds',
      'How long the last start took to recover the spool.',
      (m) => m.spool.stats().recovery?.durationSeconds ?? 0,
    )

    // Forwarder
    counter(
      'edgebridge_forwarded_records_total',
      'Records the core confirmed.',
      (m) => m.forwarder.counters.forwarded,
    )
    counter(
      'edgebridge_forwarded_batches_total',
      'Batches the core confirmed.',
      (m) => m.forwarder.counters.batches,
    )
    counter(
      'edgebridge_forwarder_send_failures_total',
      'Batch sends that failed and were retried.',
      (m) => m.forwarder.counters.sendFailures,
    )
    counter(
      'edgebridge_dead_lettered_records_total',
      'Records the core refused for good, moved to the dead-letter file.',
      (m) => m.forwarder.counters.deadLettered,
    )
    gauge('edgebridge_core_connected', '1 when the client of the core is connected, else 0.', (m) =>
      m.backend.isConnected() ? 1 : 0,
    )
    gauge(
      'edgebridge_forwarder_last_confirmed_timestamp_seconds',
      'When the core last confirmed a batch (Unix time); 0 = not since start.',
      () => this.lastConfirmedAt / 1000,
    )
    gauge(
      'edgebridge_forwarder_state',
      '1 for the state the forwarder is in.',
      (m) => {
        const now = m.forwarder.getState()
        return ['idle', 'forwarding', 'retrying', 'blocked', 'stopped'].map((state) => [
          { state },
          state === now ? 1 : 0,
        ])
      },
      ['state'],
    )

    // Broker store
    counter(
      'edgebridge_store_dropped_messages_total',
      'Messages the broker store gave up: queued for an offline session over its limit, or retained over store.maxRetainedMessages.',
      (m) => {
        const c = m.ingress.counters().store
        return [
          [{ reason: 'queue_full' }, c?.queueDropped ?? 0],
          [{ reason: 'retained_limit' }, c?.retainedRefused ?? 0],
        ]
      },
      ['reason'],
    )

    // The status page
    gauge(
      'edgebridge_status_page_readers',
      'Status pages with a live event stream open.',
      (m) => m.statusPage?.size ?? 0,
    )
    gauge(
      'edgebridge_status_page_buffered_bytes',
      "Bytes written to status pages' sockets that they have not read yet (bounded per page).",
      (m) => m.statusPage?.buffered().bytes ?? 0,
    )
    gauge(
      'edgebridge_status_page_buffered_events',
      'Live-tail events waiting for status pages (bounded per page).',
      (m) => m.statusPage?.buffered().events ?? 0,
    )
    counter(
      'edgebridge_status_page_dropped_events_total',
      'Live-tail and stats events dropped because a status page could not keep up (the message path never waits for a page).',
      (m) => m.statusPage?.droppedTotal ?? 0,
    )

    // Downlink and requests
    counter(
      'edgebridge_downlink_received_total',
      'Messages read from the core for devices.',
      (m) => m.downlink.counters.received,
    )
    counter(
      'edgebridge_downlink_delivered_total',
      'Messages handed to the broker for the subscribed devices.',
      (m) => m.downlink.counters.delivered,
    )
    counter(
      'edgebridge_downlink_failed_total',
      'Downlink messages not delivered (no valid topic, or the broker refused).',
      (m) => m.downlink.counters.failed,
    )
    counter(
      'edgebridge_requests_received_total',
      'Requests read from the core for devices.',
      (m) => m.requests?.counters.received ?? 0,
    )
    counter(
      'edgebridge_requests_answered_total',
      'Answers given to requesters, by status.',
      (m) => Object.entries(m.requests?.counters.answersByStatus ?? {}).map(([status, n]) => [{ status }, n]),
      ['status'],
    )
    counter(
      'edgebridge_requests_delivered_total',
      'Requests handed to the broker for the device.',
      (m) => m.requests?.counters.delivered ?? 0,
    )
    counter(
      'edgebridge_requests_gateway_answers_total',
      "Requests the gateway answered in the device's place, by reason: no_device (404), over_limit (429), timeout (504), bad_request (400).",
      (m) => {
        const c = m.requests?.counters
        return [
          [{ reason: 'no_device' }, c?.noDevice ?? 0],
          [{ reason: 'over_limit' }, c?.overLimit ?? 0],
          [{ reason: 'timeout' }, c?.timeouts ?? 0],
          [{ reason: 'bad_request' }, c?.badRequest ?? 0],
        ]
      },
      ['reason'],
    )
    counter(
      'edgebridge_requests_unmatched_answers_total',
      'Device answers dropped: late (after their timeout) or unknown (no request in flight with that id for that device).',
      (m) => [
        [{ kind: 'late' }, m.requests?.counters.lateAnswers ?? 0],
        [{ kind: 'unknown' }, m.requests?.counters.unmatchedAnswers ?? 0],
      ],
      ['kind'],
    )
    gauge(
      'edgebridge_requests_in_flight',
      "Requests waiting for a device's answer now.",
      (m) => m.requests?.inFlight() ?? 0,
    )
  }

  /**
   * A family whose values are read from the sources at scrape. prom-client calls `collect` before it
   * formats a metric; the values are set anew each time (a counter read from a monotonic count stays
   * monotonic).
   */
  private sourced(
    kind: 'gauge' | 'counter',
    name: string,
    help: string,
    labelNames: string[],
    read: (m: MetricSources) => number | Series,
  ): void {
    const sourcesOf = (): MetricSources | undefined => this.sources
    const config = {
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect(this: Gauge | Counter) {
        this.reset()
        const sources = sourcesOf()
        if (sources === undefined) return
        const value = read(sources)
        const series: Series = typeof value === 'number' ? [[{}, value]] : value
        for (const [labels, v] of series) {
          if (this instanceof Gauge) this.set(labels, v)
          else this.inc(labels, v)
        }
      },
    }
    if (kind === 'gauge') new Gauge(config)
    else new Counter(config)
  }
}
