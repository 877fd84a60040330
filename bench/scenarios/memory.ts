/**
 * `edgebridge bench memory`: resident memory of the gateway process at idle and with 1,000 and 10,000
 * idle device connections (KB per connection), next to a plain aedes broker. Figures are taken after a
 * full garbage collection. When the file-descriptor limit does not allow a count, the report says so
 * and measures what could be opened.
 */
import { execFileSync } from 'node:child_process'
import mqtt, { type MqttClient } from 'mqtt'
import { sleep } from '../lib/clock.js'
import { runName } from '../lib/core-endpoint.js'
import { benchDaemonConfig } from '../lib/daemon-config.js'
import { bytes, table } from '../lib/markdown.js'
import type { Scenario } from '../lib/scenario.js'
import { startSut, type SutSpec } from '../lib/sut.js'

const SETTLE_MS = 2000 // let connection bursts settle before measuring

function fdLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim())
  } catch {
    return NaN
  }
}

export const memoryScenario: Scenario = {
  name: 'memory',
  summary: 'RSS at idle and with idle device connections',
  async run(ctx) {
    const { options, endpoint } = ctx
    const limit = fdLimit()
    const rows: string[][] = []
    const data: unknown[] = []
    const notes: string[] = []
    const specs: { label: string; spec: SutSpec }[] = [
      {
        label: `edgebridge (${endpoint.backend}, memory spool)`,
        spec: { kind: 'edgebridge', config: benchDaemonConfig({ endpoint, target: runName('ebbench-mem') }) },
      },
      { label: 'plain aedes', spec: { kind: 'aedes' } },
    ]
    for (const { label, spec } of specs) {
      const sut = await startSut(spec)
      const clients: MqttClient[] = []
      try {
        await sleep(SETTLE_MS)
        const idle = await sut.stats()
        rows.push([label, 'idle', '0', bytes(idle.rss), bytes(idle.heapUsed), ''])
        data.push({ label, connections: 0, rss: idle.rss, heapUsed: idle.heapUsed })
        for (const wanted of [...options.connectionCounts].sort((a, b) => a - b)) {
          ctx.progress.phase(`${label}: ${wanted} idle connections`, wanted)
          let failures = 0
          while (clients.length < wanted && failures < 50) {
            const batch = Math.min(200, wanted - clients.length)
            const settled = await Promise.allSettled(
              Array.from({ length: batch }, (_, k) =>
                mqtt.connectAsync({
                  host: '127.0.0.1',
                  port: sut.port,
                  protocolVersion: 4,
                  clientId: `bench-mem-${process.pid}-${clients.length + k}`,
                  reconnectPeriod: 0,
                  keepalive: 600,
                  connectTimeout: 30_000,
                }),
              ),
            )
            for (const s of settled) {
              if (s.status === 'fulfilled') clients.push(s.value)
              else failures++
            }
            ctx.progress.update(clients.length)
          }
          ctx.progress.stop()
          await sleep(SETTLE_MS)
          const s = await sut.stats()
          const opened = clients.length
          const perConn = opened > 0 ? (s.rss - idle.rss) / opened : 0
          if (opened < wanted) {
            notes.push(
              `${label}: only ${opened} of ${wanted} connections could be opened (ulimit -n ${limit}).`,
            )
          }
          rows.push([
            label,
            `${wanted} wanted`,
            String(opened),
            bytes(s.rss),
            bytes(s.heapUsed),
            `${(perConn / 1024).toFixed(1)} KB`,
          ])
          data.push({
            label,
            connections: opened,
            wanted,
            connectedAtBroker: s.connected,
            rss: s.rss,
            heapUsed: s.heapUsed,
            perConnectionBytes: perConn,
          })
          ctx.log(
            `    ${label}: ${opened} connections, RSS ${bytes(s.rss)}, ${(perConn / 1024).toFixed(1)} KB per connection`,
          )
        }
      } finally {
        await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)))
        await sut.stop()
      }
    }
    ctx.report.set('memory', { fdLimit: limit, measurements: data })
    ctx.report.section(
      `Memory: idle device connections (file-descriptor limit ${limit})`,
      [
        table(['process', 'connections', 'opened', 'RSS', 'heap used', 'RSS per connection'], rows),
        '',
        'Measured in the broker process after a full GC; the per-connection figure is (RSS - idle RSS) / connections.',
        ...notes,
      ].join('\n'),
    )
  },
}
