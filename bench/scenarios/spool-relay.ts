/**
 * `edgebridge bench spool-relay`: the relay rate (closed-loop QoS 1 devices -> core) with the disk
 * spool under each fsync policy, as a ratio of the relay rate with the memory spool in the same
 * run. Target: fsync always >= 0.9x memory.
 *
 * `--store memory,disk` runs every spool variant with each broker store (the SQLite store on disk, or
 * aedes' memory store), so the store's cost shows as a ratio too; `--retain` makes every message a
 * retained one, a store write per message (the store's worst case on the uplink).
 */
import { rate, ratio, table } from '../lib/markdown.js'
import type { Scenario } from '../lib/scenario.js'
import { runThroughputVariant, type ThroughputResult } from '../lib/throughput-run.js'
import type { SpoolConfig } from '../../src/config/types.js'

const TARGET_ALWAYS = 0.9

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
    const variants = options.stores.flatMap((store) =>
      spools.map(({ label, spool }) => ({
        label: options.stores.length > 1 ? `${label}, ${store} store` : label,
        spool,
        store,
      })),
    )
    const results: ThroughputResult[] = []
    for (const { label, spool, store } of variants) {
      const r = await runThroughputVariant({
        endpoint,
        variant: 'edgebridge',
        label,
        spool,
        store: { kind: store },
        retain: options.retain,
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
    const always = results.find((r) => r.label.startsWith('disk, fsync always'))
    ctx.report.set('runs', results)
    // With both stores: the disk store's relay rate against the memory store's, per spool variant.
    const storeLines =
      options.stores.length > 1
        ? spools.map(({ label }) => {
            const mem = results.find((r) => r.label === `${label}, memory store`)
            const disk = results.find((r) => r.label === `${label}, disk store`)
            if (mem === undefined || disk === undefined) return ''
            return `With the ${label} spool the disk broker store relays ${ratio(disk.deliveredPerSecond / mem.deliveredPerSecond)} of the memory store's rate.`
          })
        : []
    ctx.report.section(
      `Spool relay: ${options.devices} devices x window ${options.window}, QoS 1${options.retain ? ' retained' : ''}, ${options.payloadBytes} B, ${endpoint.backend}`,
      [
        table(['spool', 'acked msg/s', 'delivered msg/s', 'ratio to memory', 'sent', 'lost', 'dup'], rows),
        '',
        always === undefined
          ? ''
          : `fsync always relays ${ratio(always.deliveredPerSecond / memory.deliveredPerSecond)} of the memory spool's rate ` +
            `(target >= ${TARGET_ALWAYS}x: ${always.deliveredPerSecond / memory.deliveredPerSecond >= TARGET_ALWAYS ? 'met' : 'not met'}).`,
        ...storeLines,
      ].join('\n'),
    )
  },
}
