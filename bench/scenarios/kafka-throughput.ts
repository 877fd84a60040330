/**
 * `edgebridge bench kafka-throughput`: the Kafka figure. MQTT QoS 1, 256 B, 20 devices -> Kafka,
 * delivered msg/s, compared in the same run with (K) kafkajs producing the same records directly in
 * batches of the same size (devices x window) and (A) a plain aedes broker acknowledging with a
 * no-op handler. The stages run in series, so the best edgebridge can do is about 1/(1/A + 1/K);
 * the target is at least 1.0 of that (the edge must not cost throughput beyond its two stages).
 * edgebridge relays through the spool the daemon ships with (disk, fsync always) unless `--spool`
 * names another (the first one named).
 */
import { rate, ratio, table } from '../lib/markdown.js'
import type { Scenario } from '../lib/scenario.js'
import { spoolLabel, spoolOf } from '../lib/daemon-config.js'
import { measure, THROUGHPUT_HEADERS, throughputRow } from './throughput.js'

const TARGET = 1.0

export const kafkaThroughputScenario: Scenario = {
  name: 'kafka-throughput',
  summary: 'MQTT QoS 1 -> Kafka vs 1/(1/A + 1/K)',
  async run(ctx) {
    const options = { ...ctx.options, backend: 'kafka' as const }
    const c = { ...ctx, options, endpoint: { ...ctx.endpoint, backend: 'kafka' as const } }
    const k = await measure(c, 'direct', 'K: kafkajs direct')
    const a = await measure(c, 'aedes', 'A: plain aedes (no-op handler)')
    const spool = options.spools[0] ?? 'always'
    const e = await measure(c, 'edgebridge', `edgebridge -> kafka (${spoolLabel(spool)})`, spoolOf(spool))
    const bound = 1 / (1 / a.ackedPerSecond + 1 / k.deliveredPerSecond)
    const achieved = e.deliveredPerSecond / bound
    ctx.report.set('runs', [k, a, e])
    ctx.report.set('kafka', {
      A: a.ackedPerSecond,
      K: k.deliveredPerSecond,
      bound,
      edgebridge: e.deliveredPerSecond,
      ratio: achieved,
      target: TARGET,
    })
    ctx.report.section(
      `Kafka: ${options.devices} devices x window ${options.window}, QoS 1, ${options.payloadBytes} B`,
      [
        table(THROUGHPUT_HEADERS, [throughputRow(e), throughputRow(k), throughputRow(a)]),
        '',
        `1/(1/A + 1/K) = ${rate(bound)} msg/s; edgebridge delivered ${rate(e.deliveredPerSecond)} msg/s = ` +
          `**${ratio(achieved)}** of it (target >= ${TARGET}x: ${achieved >= TARGET ? 'met' : 'not met'}).`,
      ].join('\n'),
    )
  },
}
