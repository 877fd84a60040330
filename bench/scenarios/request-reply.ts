/**
 * `edgebridge bench request-reply`: round-trip latency of request/reply through the gateway, against
 * the same request/reply done directly on the core in the same run. NATS only: it is the core with
 * request/reply built in, so the reference is exact.
 *
 * - **edgebridge**: a NATS requester (`nc.request()`) -> edgebridge (request rule `<run>.req.*.*`) ->
 *   MQTT device (QoS 1, default convention) -> the device's answer -> edgebridge -> the reply inbox.
 * - **direct**: the same requester, subjects and payloads, answered by a NATS responder per device
 *   subject on its own connection: what request/reply on the core alone costs.
 *
 * Open loop, as the latency scenario: request i is due at start + i / rate and goes to device
 * i mod devices; its round trip is timed from the *scheduled* time, so a stall is charged to every
 * request that should have left during it. Every request is accounted for: answered by the device
 * (in the histogram), answered by the gateway in the device's place (a status other than 200,
 * counted by status), or no answer at all (lost). The gateway's in-flight bounds are raised so the
 * run measures latency, not the 429 answers of requests.maxInFlightPerDevice.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { connectAnsweringDevices } from '../lib/answering-devices.js'
import { nowMs } from '../lib/clock.js'
import { runName, type CoreEndpoint } from '../lib/core-endpoint.js'
import { benchDaemonConfig } from '../lib/daemon-config.js'
import { LatencyHistogram, REPORT_PERCENTILES, percentileKey, type LatencySummary } from '../lib/histogram.js'
import { deltaMs, ms, rate, ratio, table } from '../lib/markdown.js'
import { runOpenLoop, totalMessages } from '../lib/open-loop.js'
import type { Scenario, ScenarioContext } from '../lib/scenario.js'
import { startSut } from '../lib/sut.js'

export type RequestVariant = 'direct' | 'edgebridge'

/** The gateway's answer timeout in the run; the requester waits this plus the grace period. */
const REQUEST_TIMEOUT_MS = 10_000 // 10 s

const METHOD = 'echo'

export interface RequestRunResult {
  variant: RequestVariant
  requestsPerSecond: number
  devices: number
  payloadBytes: number
  sent: number
  /** Answers from the device (or the direct responder): the histogram's samples. */
  answered: number
  /** Answers the gateway gave in the device's place, by status (404, 429, 503, 504...). */
  gatewayAnswers: Record<string, number>
  /** Requests that got no answer at all within the requester's timeout. */
  lost: number
  latency: LatencySummary
  maxSchedulerLagMs: number
  histogram: LatencyHistogram
}

export const requestReplyScenario: Scenario = {
  name: 'request-reply',
  summary: 'NATS request -> edgebridge -> MQTT device -> answer, against direct NATS request/reply',
  async run(ctx) {
    const endpoint: CoreEndpoint = { ...ctx.endpoint, backend: 'nats' }
    const direct = await measure(ctx, endpoint, 'direct')
    const edge = await measure(ctx, endpoint, 'edgebridge')
    const { report, options } = ctx
    for (const r of [direct, edge]) report.writeText(`request-reply-${r.variant}.hgrm`, r.histogram.toHgrm())
    await report.plot('request-reply.svg', 'request/reply round trip by percentile', [
      { name: 'NATS -> edgebridge -> MQTT device -> NATS', points: edge.histogram.distribution() },
      { name: 'NATS request/reply direct (floor)', points: direct.histogram.distribution() },
    ])
    const p = (r: RequestRunResult, key: string): number => r.latency.percentilesUs[key] ?? 0
    const ratios = { p50: p(edge, 'p50') / p(direct, 'p50'), p99: p(edge, 'p99') / p(direct, 'p99') }
    report.set('runs', [strip(direct), strip(edge)])
    report.set('ratios', ratios)
    report.section(
      `Request/reply round trip: ${rate(options.requestRate)} requests/s over ${options.devices} devices, ${options.payloadBytes} B, in ms`,
      [
        table(HEADERS, [
          row('edgebridge (NATS -> MQTT device -> NATS)', edge),
          row('direct NATS request/reply', direct),
          [
            '*edgebridge added over direct*',
            ...REPORT_PERCENTILES.map((q) =>
              deltaMs(p(edge, percentileKey(q)) - p(direct, percentileKey(q))),
            ),
            deltaMs(edge.latency.maxUs - direct.latency.maxUs),
            '',
            '',
            '',
            '',
          ],
        ]),
        '',
        `edgebridge / direct: **p50 ${ratio(ratios.p50)}**, **p99 ${ratio(ratios.p99)}**. ` +
          'Times run from the scheduled send time to the answer at the requester (open loop). Plot: request-reply.svg.',
      ].join('\n'),
    )
  },
}

const HEADERS = [
  '',
  ...REPORT_PERCENTILES.map((p) => `p${p}`),
  'max',
  'sent',
  'answered',
  'gateway answers',
  'lost',
]

function row(name: string, r: RequestRunResult): string[] {
  const gateway = Object.entries(r.gatewayAnswers)
  return [
    name,
    ...REPORT_PERCENTILES.map((p) => ms(r.latency.percentilesUs[percentileKey(p)] ?? 0)),
    ms(r.latency.maxUs),
    String(r.sent),
    String(r.answered),
    gateway.length === 0 ? '0' : gateway.map(([status, n]) => `${n} x ${status}`).join(', '),
    String(r.lost),
  ]
}

function strip(r: RequestRunResult): Omit<RequestRunResult, 'histogram'> {
  const { histogram: _h, ...rest } = r
  return rest
}

async function measure(
  ctx: ScenarioContext,
  endpoint: CoreEndpoint,
  variant: RequestVariant,
): Promise<RequestRunResult> {
  const { options } = ctx
  const run = runName('ebbench-rr')
  const total = totalMessages(options.requestRate, options.durationMs)
  const closers: (() => Promise<void>)[] = []
  const histogram = new LatencyHistogram()
  const gatewayAnswers: Record<string, number> = {}
  let answered = 0
  let lost = 0
  try {
    const requester = await natsConnection(endpoint, 'edgebridge-bench-requester')
    closers.push(() => requester.close())
    const ids = await answerers(ctx, endpoint, variant, run, closers)
    const payload = Buffer.alloc(options.payloadBytes, 0x61)
    const settled: Promise<void>[] = []
    ctx.progress.phase(`request-reply ${variant}`, total)
    const loop = await runOpenLoop({
      ratePerSecond: options.requestRate,
      durationMs: options.durationMs,
      issue: (from, to, scheduledMs) => {
        for (let i = from; i < to; i++) {
          const at = scheduledMs(i)
          const subject = `${run}.req.${ids[i % ids.length] as string}.${METHOD}`
          const asked = requester
            .request(subject, payload, { timeout: REQUEST_TIMEOUT_MS + options.graceMs })
            .then(
              (m) => {
                // The gateway's own answers carry origin=gateway; the direct responder sets no headers.
                const status = m.headers?.get('status') ?? '200'
                if (m.headers?.get('origin') === 'gateway' || status !== '200')
                  gatewayAnswers[status] = (gatewayAnswers[status] ?? 0) + 1
                else {
                  histogram.recordMs(nowMs() - at)
                  answered++
                }
              },
              () => {
                lost++
              },
            )
          settled.push(asked)
        }
      },
      onProgress: () => ctx.progress.update(answered),
    })
    await Promise.all(settled)
    ctx.progress.update(answered)
    ctx.progress.stop()
    const result: RequestRunResult = {
      variant,
      requestsPerSecond: options.requestRate,
      devices: ids.length,
      payloadBytes: options.payloadBytes,
      sent: loop.issued,
      answered,
      gatewayAnswers,
      lost,
      latency: histogram.summary(),
      maxSchedulerLagMs: loop.maxSchedulerLagMs,
      histogram,
    }
    ctx.log(
      `    ${variant}: sent ${result.sent}, answered ${answered}, lost ${lost}, ` +
        `p50 ${ms(result.latency.percentilesUs.p50 ?? 0)} ms, p99 ${ms(result.latency.percentilesUs.p99 ?? 0)} ms`,
    )
    return result
  } finally {
    ctx.progress.stop()
    for (const close of closers.reverse()) await close().catch(() => undefined)
  }
}

/** Starts whoever answers `<run>.req.<device>.echo` for the variant; returns the device ids. */
async function answerers(
  ctx: ScenarioContext,
  endpoint: CoreEndpoint,
  variant: RequestVariant,
  run: string,
  closers: (() => Promise<void>)[],
): Promise<string[]> {
  const { devices } = ctx.options
  const idPrefix = `bench-rr-${process.pid}`
  if (variant === 'direct') {
    const responder = await natsConnection(endpoint, 'edgebridge-bench-responder')
    closers.push(() => responder.close())
    const ids = Array.from({ length: devices }, (_, i) => `${idPrefix}-${i}`)
    for (const id of ids)
      responder.subscribe(`${run}.req.${id}.${METHOD}`, { callback: (_e, m) => void m.respond(m.data) })
    await responder.flush()
    return ids
  }
  const defaults = benchDaemonConfig({ endpoint, target: run })
  const sut = await startSut({
    kind: 'edgebridge',
    config: {
      ...defaults,
      requests: {
        enabled: true,
        rules: [{ source: `${run}.req.*.*` }],
        timeoutMs: REQUEST_TIMEOUT_MS,
        maxInFlight: 1_000_000,
        maxInFlightPerDevice: 1_000_000,
      },
    },
  })
  closers.push(() => sut.stop())
  const fleet = await connectAnsweringDevices(sut.port, devices, idPrefix)
  closers.push(() => fleet.close())
  return fleet.ids
}

function natsConnection(endpoint: CoreEndpoint, name: string): Promise<NatsConnection> {
  return connect({ servers: endpoint.natsServers, name })
}
