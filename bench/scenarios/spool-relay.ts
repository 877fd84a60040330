/**
 * `edgebridge bench spool-relay`: the relay rate (closed-loop QoS 1 devices -> core) with the disk
 * spool under each fsync policy, as a ratio of the relay rate with the memory spool in the same
 * run. Target: fsync always >= 0.7x memory.
 */
import { rate, ratio, table } from '../lib/markdown.js'
import type { Scenario } from '../lib/scenario.js'
import { runThroughputVariant, type ThroughputResult } from '../lib/throughput-run.js'
import type { SpoolConfig } from '../../src/config/types.js'

const TARGET_ALWAYS = 0.7

export const spoolRelayScenario: Scenario = {
  name: 'spool-relay',
  summary: 'disk spool relay rate per fsync policy as a ratio of the memory spool',
  async run(ctx) {
    const { options, endpoint } = ctx
    const spools: { label: string; spool: Partial<SpoolConfig> }[] = [
      { label: 'memory', spool: { kind: 'memory' } },
      ...options.fsync.map((fsync) => ({
        label: `disk, fsync ${fsync}`,
        spool: { kind: 'disk' as const, fsync },
      })),
    ]
    const results: ThroughputResult[] = []
    for (const { label, spool } of spools) {
      const r = await runThroughputVariant({
        endpoint,
        variant: 'edgebridge',
        label,
        spool,
        devices: options.devices,
        window: options.window,
        payloadBytes: options.payloadBytes,
        durationMs: options.durationMs,
        graceMs: options.graceMs,
        progress: ctx.progress,
      })
      ctx.log(
        `    ${label}: delivered ${rate(r.deliveredPerSecond)}/s, acked ${rate(r.ackedPerSecond)}/s, lost ${r.lost}`,
      )
      results.push(r)
    }
    const memory = results[0]!
    const rows = results.map((r) => [
      r.label,
      rate(r.ackedPerSecond),
      rate(r.deliveredPerSecond),
      ratio(r.deliveredPerSecond / memory.deliveredPerSecond),
      String(r.sent),
      String(r.lost),
      String(r.duplicates),
    ])
    const always = results.find((r) => r.label === 'disk, fsync always')
    ctx.report.set('runs', results)
    ctx.report.section(
      `Spool relay: ${options.devices} devices x window ${options.window}, QoS 1, ${options.payloadBytes} B, ${endpoint.backend}`,
      [
        table(['spool', 'acked msg/s', 'delivered msg/s', 'ratio to memory', 'sent', 'lost', 'dup'], rows),
        '',
        always === undefined
          ? ''
          : `fsync always relays ${ratio(always.deliveredPerSecond / memory.deliveredPerSecond)} of the memory spool's rate ` +
            `(target >= ${TARGET_ALWAYS}x: ${always.deliveredPerSecond / memory.deliveredPerSecond >= TARGET_ALWAYS ? 'met' : 'not met'}).`,
      ].join('\n'),
    )
  },
}
