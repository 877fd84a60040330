/**
 * `edgebridge bench status-page`: does a status page that stops reading slow the message path? One
 * device publishes 256 B QoS 1 at 2,000 msg/s (open loop) through edgebridge twice in the same run:
 * alone, and with a status page's event stream open on the whole tail (`/events?filter=#`) whose
 * socket is paused (it never reads). Reports the delivered rate and the latency of both, their ratio,
 * and how many tail events the gateway dropped for the paused page (it must drop, not buffer, and
 * not slow the devices: the ratio should stay near 1.0x).
 */
import { connect, type Socket } from 'node:net'
import { percentileKey } from '../lib/histogram.js'
import { runLatencyVariant, type LatencyConfig, type LatencyRunResult } from '../lib/latency-run.js'
import { ms, rate, ratio, table } from '../lib/markdown.js'
import type { Scenario, ScenarioContext } from '../lib/scenario.js'
import type { Sut } from '../lib/sut.js'

const CONFIG: LatencyConfig = { name: '256B-2k', payloadBytes: 256, ratePerSecond: 2000, connections: 1 }

/** Opens the whole tail and stops reading; the function returned scrapes the dropped count and closes. */
async function pausedReader(sut: Sut, dropped: { events: number }): Promise<() => Promise<void>> {
  if (sut.httpPort === undefined) throw new Error('the gateway under test serves no HTTP')
  const socket: Socket = connect(sut.httpPort, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.write('GET /events?filter=%23 HTTP/1.1\r\nHost: bench\r\n\r\n')
  await new Promise<void>((resolve) => socket.once('data', () => resolve()))
  socket.pause()
  return async () => {
    const text = await (await fetch(`http://127.0.0.1:${sut.httpPort}/metrics`)).text()
    const m = /^edgebridge_status_page_dropped_events_total (\d+)/m.exec(text)
    dropped.events = m === null ? 0 : Number(m[1])
    socket.destroy()
  }
}

export const statusPageScenario: Scenario = {
  name: 'status-page',
  summary: 'a device at 2,000 msg/s with and without a paused status-page reader (delivered rate ratio)',
  async run(ctx: ScenarioContext): Promise<void> {
    const { options, endpoint, report } = ctx
    const run = (beside?: (sut: Sut) => Promise<() => Promise<void>>) =>
      runLatencyVariant({
        endpoint,
        variant: 'edgebridge',
        config: CONFIG,
        qos: 1,
        durationMs: options.durationMs,
        graceMs: options.graceMs,
        progress: ctx.progress,
        beside,
      })
    const alone = await run()
    const dropped = { events: 0 }
    const paused = await run((sut) => pausedReader(sut, dropped))
    const row = (label: string, r: LatencyRunResult) => [
      label,
      rate(r.deliveredPerSecond),
      ms(r.latency.percentilesUs[percentileKey(50)] ?? 0),
      ms(r.latency.percentilesUs[percentileKey(99)] ?? 0),
      String(r.counts.sent),
      String(r.counts.lost),
    ]
    const strip = ({ histogram: _h, ...rest }: LatencyRunResult) => rest
    report.set('runs', [strip(alone), strip(paused)])
    report.set('droppedTailEvents', dropped.events)
    const r = paused.deliveredPerSecond / alone.deliveredPerSecond
    ctx.log(
      `    alone ${rate(alone.deliveredPerSecond)}/s, with a paused page ${rate(paused.deliveredPerSecond)}/s (${ratio(r)})`,
    )
    report.section(
      `Status page: ${CONFIG.ratePerSecond} msg/s, QoS 1, ${CONFIG.payloadBytes} B, ${endpoint.backend}, with and without a paused reader`,
      [
        table(
          ['run', 'delivered msg/s', 'p50 ms', 'p99 ms', 'sent', 'lost'],
          [row('no status page', alone), row('a paused status page', paused)],
        ),
        '',
        `With a paused page the gateway delivered ${ratio(r)} of the rate without one, and dropped ${dropped.events} tail events for it.`,
      ].join('\n'),
    )
  },
}
