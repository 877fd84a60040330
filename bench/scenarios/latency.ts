/**
 * `edgebridge bench latency`: open-loop latency in the five standard configurations, for QoS 0 and 1,
 * with the references measured in the same run (and, for NATS backends, nats-server's own MQTT). Reports percentiles to p99.9999, edgebridge's added
 * latency over each reference per percentile, and delivered rate as a ratio of the references.
 *
 * edgebridge runs with the spool it ships with (disk, fsync always: a PUBACK means the message is on
 * the disk) unless `--spool` asks for others; each spool is a row of its own, and the first is the
 * one compared with the references.
 */
import { REPORT_PERCENTILES, percentileKey } from '../lib/histogram.js'
import {
  runLatencyVariant,
  STANDARD_CONFIGS,
  type LatencyRunResult,
  type Variant,
} from '../lib/latency-run.js'
import { spoolLabel, spoolOf, type SpoolChoice } from '../lib/daemon-config.js'
import { natsMqttReferenceAvailable } from '../lib/nats-mqtt-server.js'
import { deltaMs, ms, rate, ratio, table } from '../lib/markdown.js'
import type { Scenario, ScenarioContext } from '../lib/scenario.js'

const HEADERS = ['', ...REPORT_PERCENTILES.map((p) => `p${p}`), 'max', 'sent', 'lost', 'dup', 'msg/s']

export const latencyScenario: Scenario = {
  name: 'latency',
  summary:
    'open-loop latency, 5 standard configurations x QoS 0/1, against direct-client and plain-aedes references',
  async run(ctx: ScenarioContext): Promise<void> {
    const { options, endpoint, report } = ctx
    const configs =
      options.configs.length === 0
        ? STANDARD_CONFIGS
        : STANDARD_CONFIGS.filter((c) => options.configs.includes(c.name))
    if (configs.length === 0) throw new Error(`no latency configuration named ${options.configs.join(', ')}`)
    const all: Omit<LatencyRunResult, 'histogram'>[] = []
    const withNative = natsMqttReferenceAvailable(endpoint.backend)
    for (const config of configs) {
      // The direct reference has no MQTT, so no QoS: one run serves both QoS levels.
      const direct = await run(ctx, 'direct', config, 1)
      all.push(strip(direct))
      for (const qos of options.qos) {
        const aedes = await run(ctx, 'aedes', config, qos)
        const native = withNative ? await run(ctx, 'nats-mqtt', config, qos) : undefined
        // One edgebridge run per spool asked for; the first (by default the daemon's own: disk,
        // fsync always) is the one compared with the references below.
        const edges: EdgeRun[] = []
        for (const spool of options.spools)
          edges.push({ spool, result: await run(ctx, 'edgebridge', config, qos, spool) })
        const edge = (edges[0] as EdgeRun).result
        all.push(strip(aedes), ...edges.map((e) => ({ ...strip(e.result), spool: e.spool })))
        if (native !== undefined) all.push(strip(native))
        const base = `latency-${config.name}-qos${qos}`
        for (const r of [aedes, ...(native === undefined ? [] : [native])])
          report.writeText(`${base}-${r.variant}.hgrm`, r.histogram.toHgrm())
        for (const [i, e] of edges.entries())
          report.writeText(
            `${base}-edgebridge${i === 0 ? '' : `-${e.spool}`}.hgrm`,
            e.result.histogram.toHgrm(),
          )
        report.writeText(`latency-${config.name}-direct.hgrm`, direct.histogram.toHgrm())
        await report.plot(
          `${base}.svg`,
          `${config.name}, QoS ${qos}, ${endpoint.backend}: latency by percentile`,
          [
            ...edges.map((e) => ({
              name: `edgebridge -> ${endpoint.backend} (${spoolLabel(e.spool)})`,
              points: e.result.histogram.distribution(),
            })),
            { name: `${endpoint.backend} client direct (floor)`, points: direct.histogram.distribution() },
            { name: 'plain aedes (MQTT ingress alone)', points: aedes.histogram.distribution() },
            ...(native === undefined
              ? []
              : [{ name: "nats-server's own MQTT", points: native.histogram.distribution() }]),
          ],
        )
        report.section(
          `${config.name} (${config.payloadBytes} B at ${rate(config.ratePerSecond)}/s over ${config.connections} connection${config.connections > 1 ? 's' : ''}), QoS ${qos}, ${endpoint.backend}: latency in ms`,
          [
            table(HEADERS, [
              ...edges.map((e) =>
                row(`edgebridge -> ${endpoint.backend} (${spoolLabel(e.spool)})`, e.result),
              ),
              row(`direct ${endpoint.backend} client`, direct),
              row('plain aedes', aedes),
              ...(native === undefined ? [] : [row("nats-server's own MQTT", native)]),
              deltaRow('edgebridge added over direct', edge, direct),
              deltaRow('edgebridge added over aedes', edge, aedes),
              ...(native === undefined
                ? []
                : [deltaRow("edgebridge added over nats-server's MQTT", edge, native)]),
            ]),
            '',
            `Delivered rate: ${ratio(edge.deliveredPerSecond / direct.deliveredPerSecond)} of direct, ` +
              `${ratio(edge.deliveredPerSecond / aedes.deliveredPerSecond)} of plain aedes. ` +
              (qos === 1 && edge.ackLatency !== undefined
                ? `PUBACK latency p50 ${ms(edge.ackLatency.percentilesUs.p50 ?? 0)} ms, p99 ${ms(edge.ackLatency.percentilesUs.p99 ?? 0)} ms, max ${ms(edge.ackLatency.maxUs)} ms. `
                : '') +
              `Plot: ${base}.svg.`,
          ].join('\n'),
        )
      }
    }
    report.set('runs', all)
  },
}

interface EdgeRun {
  spool: SpoolChoice
  result: LatencyRunResult
}

async function run(
  ctx: ScenarioContext,
  variant: Variant,
  config: (typeof STANDARD_CONFIGS)[number],
  qos: 0 | 1,
  spool?: SpoolChoice,
) {
  const result = await runLatencyVariant({
    endpoint: ctx.endpoint,
    variant,
    config,
    qos,
    ...(spool === undefined ? {} : { spool: spoolOf(spool) }),
    durationMs: ctx.options.durationMs,
    graceMs: ctx.options.graceMs,
    progress: ctx.progress,
  })
  const c = result.counts
  ctx.log(
    `    ${variant}${spool === undefined ? '' : ` (${spoolLabel(spool)})`} ${config.name} qos${qos}: sent ${c.sent}, received ${c.received}, lost ${c.lost}, dup ${c.duplicates}, ` +
      `p50 ${ms(result.latency.percentilesUs.p50 ?? 0)} ms, p99 ${ms(result.latency.percentilesUs.p99 ?? 0)} ms, max ${ms(result.latency.maxUs)} ms`,
  )
  return result
}

function strip(r: LatencyRunResult): Omit<LatencyRunResult, 'histogram'> {
  const { histogram: _h, ...rest } = r
  return rest
}

function row(name: string, r: LatencyRunResult): string[] {
  return [
    name,
    ...REPORT_PERCENTILES.map((p) => ms(r.latency.percentilesUs[percentileKey(p)] ?? 0)),
    ms(r.latency.maxUs),
    String(r.counts.sent),
    String(r.counts.lost),
    String(r.counts.duplicates),
    rate(r.deliveredPerSecond),
  ]
}

function deltaRow(name: string, a: LatencyRunResult, b: LatencyRunResult): string[] {
  return [
    `*${name}*`,
    ...REPORT_PERCENTILES.map((p) =>
      deltaMs(
        (a.latency.percentilesUs[percentileKey(p)] ?? 0) - (b.latency.percentilesUs[percentileKey(p)] ?? 0),
      ),
    ),
    deltaMs(a.latency.maxUs - b.latency.maxUs),
    '',
    '',
    '',
    '',
  ]
}
