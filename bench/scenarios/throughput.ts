/**
 * `edgebridge bench throughput`: closed-loop devices (default 20 devices, window 10, QoS 1, 256 B):
 * delivered msg/s at the core, acknowledged, lost and duplicates, against the direct client (the
 * core alone), a plain aedes broker (MQTT ingress alone) and, for NATS backends, nats-server's own MQTT
 * support, in the same run. edgebridge runs with the spool it ships with (disk, fsync always) unless
 * `--spool` asks for others: a row each, the first is the headline. Rows for `never` and `memory`
 * show how much of the gap to a reference that does not fsync is the fsync itself.
 */
import { rate, ratio, table } from '../lib/markdown.js'
import { natsMqttReferenceAvailable } from '../lib/nats-mqtt-server.js'
import type { Scenario, ScenarioContext } from '../lib/scenario.js'
import { runThroughputVariant, type ThroughputResult } from '../lib/throughput-run.js'
import type { Variant } from '../lib/latency-run.js'
import type { SpoolConfig } from '../../src/config/types.js'
import { spoolLabel, spoolOf } from '../lib/daemon-config.js'

export const THROUGHPUT_HEADERS = [
  '',
  'delivered msg/s',
  'acked msg/s',
  'sent',
  'acked',
  'received',
  'lost',
  'dup',
]

export function throughputRow(r: ThroughputResult): string[] {
  return [
    r.label,
    rate(r.deliveredPerSecond),
    rate(r.ackedPerSecond),
    String(r.sent),
    String(r.acked),
    String(r.received),
    String(r.lost),
    String(r.duplicates),
  ]
}

export async function measure(
  ctx: ScenarioContext,
  variant: Variant,
  label: string,
  spool?: Partial<SpoolConfig>,
): Promise<ThroughputResult> {
  const { options } = ctx
  const r = await runThroughputVariant({
    endpoint: ctx.endpoint,
    variant,
    label,
    ...(spool === undefined ? {} : { spool }),
    devices: options.devices,
    window: options.window,
    payloadBytes: options.payloadBytes,
    durationMs: options.durationMs,
    graceMs: options.graceMs,
    progress: ctx.progress,
  })
  ctx.log(
    `    ${label}: delivered ${rate(r.deliveredPerSecond)}/s, acked ${rate(r.ackedPerSecond)}/s, sent ${r.sent}, lost ${r.lost}`,
  )
  return r
}

export const throughputScenario: Scenario = {
  name: 'throughput',
  summary: 'closed-loop QoS 1 devices: delivered msg/s vs direct client and plain aedes',
  async run(ctx) {
    const { options, endpoint } = ctx
    const direct = await measure(ctx, 'direct', `direct ${endpoint.backend} client`)
    const aedes = await measure(ctx, 'aedes', 'plain aedes (no-op handler)')
    const native = natsMqttReferenceAvailable(endpoint.backend)
      ? await measure(ctx, 'nats-mqtt', "nats-server's own MQTT")
      : undefined
    // One edgebridge run per spool asked for; the first (by default the daemon's own: disk, fsync
    // always, a PUBACK means the record is on the disk) is the one the ratios are of.
    const edges: ThroughputResult[] = []
    for (const spool of options.spools)
      edges.push(
        await measure(
          ctx,
          'edgebridge',
          `edgebridge -> ${endpoint.backend} (${spoolLabel(spool)})`,
          spoolOf(spool),
        ),
      )
    const edge = edges[0]!
    const serial = 1 / (1 / aedes.ackedPerSecond + 1 / direct.deliveredPerSecond)
    ctx.report.set('runs', [direct, aedes, ...edges, ...(native === undefined ? [] : [native])])
    ctx.report.set('ratios', {
      ofDirect: edge.deliveredPerSecond / direct.deliveredPerSecond,
      ofAedes: edge.deliveredPerSecond / aedes.ackedPerSecond,
      ofSerialComposition: edge.deliveredPerSecond / serial,
      ...(native === undefined ? {} : { ofNatsMqtt: edge.deliveredPerSecond / native.deliveredPerSecond }),
    })
    ctx.report.section(
      `Throughput: ${options.devices} devices x window ${options.window}, QoS 1, ${options.payloadBytes} B, ${endpoint.backend}`,
      [
        table(THROUGHPUT_HEADERS, [
          ...edges.map(throughputRow),
          throughputRow(direct),
          throughputRow(aedes),
          ...(native === undefined ? [] : [throughputRow(native)]),
        ]),
        '',
        ...(native === undefined
          ? []
          : edges.map(
              (e) =>
                `${e.label} delivered ${ratio(e.deliveredPerSecond / native.deliveredPerSecond)} of nats-server's own MQTT.`,
            )),
        `edgebridge delivered ${ratio(edge.deliveredPerSecond / direct.deliveredPerSecond)} of the direct client, ` +
          `${ratio(edge.deliveredPerSecond / aedes.ackedPerSecond)} of plain aedes, and ` +
          `${ratio(edge.deliveredPerSecond / serial)} of 1/(1/A + 1/K) = ${rate(serial)} msg/s (the two stages in series).`,
      ].join('\n'),
    )
  },
}
