/**
 * Smoke runs of every bench scenario at a tiny scale against the real servers: they check the
 * harness itself (counts add up, nothing is lost, every report file is written), never timing.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultBenchOptions, runScenario } from '../../bench/lib/run-scenario.js'
import type { BenchOptions, Scenario } from '../../bench/lib/scenario.js'
import { latencyScenario } from '../../bench/scenarios/latency.js'
import { throughputScenario } from '../../bench/scenarios/throughput.js'
import { kafkaThroughputScenario } from '../../bench/scenarios/kafka-throughput.js'
import { spoolRelayScenario } from '../../bench/scenarios/spool-relay.js'
import { replayScenario } from '../../bench/scenarios/replay.js'
import { memoryScenario } from '../../bench/scenarios/memory.js'
import { requestReplyScenario } from '../../bench/scenarios/request-reply.js'
import { statusPageScenario } from '../../bench/scenarios/status-page.js'
import { natsMqttReferenceAvailable } from '../../bench/lib/nats-mqtt-server.js'
import { testKafkaBrokers, testNatsUrl, testRedisUrl } from '../support/env.js'

const root = mkdtempSync(join(tmpdir(), 'edgebridge-bench-smoke-'))
after(() => rmSync(root, { recursive: true, force: true }))

interface Counts {
  sent: number
  received: number
  lost: number
  duplicates: number
}

async function smoke(scenario: Scenario, overrides: Partial<BenchOptions>) {
  const out = join(root, `${scenario.name}-${overrides.backend ?? 'redis'}`)
  const outcome = await runScenario(
    scenario,
    defaultBenchOptions({ durationMs: 1000, graceMs: 3000, devices: 2, window: 2, ...overrides }),
    {
      out,
      redisUrl: testRedisUrl(),
      natsServers: testNatsUrl(),
      kafkaBrokers: testKafkaBrokers().join(','),
      progress: false,
      log: () => undefined,
    },
  )
  const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as Record<string, unknown>
  assert.ok(existsSync(join(out, 'results.md')), 'results.md written')
  assert.match(outcome.markdown, /\| --- \|/, 'the Markdown has a table')
  return { out, json, files: readdirSync(out), markdown: outcome.markdown }
}

/** The temporary data directories the bench makes for a gateway with a disk spool (daemon-config.ts). */
function benchDataDirs(): string[] {
  return readdirSync(tmpdir()).filter((name) => /^edgebridge-bench-[A-Za-z0-9]{6}$/.test(name))
}

function assertAllDelivered(counts: Counts, what: string): void {
  assert.ok(counts.sent > 0, `${what}: something was sent`)
  assert.equal(counts.sent, counts.received + counts.lost, `${what}: sent = received + lost`)
  assert.equal(counts.lost, 0, `${what}: nothing lost`)
  assert.equal(counts.duplicates, 0, `${what}: no duplicates`)
}

describe('bench smoke', () => {
  for (const backend of ['redis', 'nats'] as const) {
    it(`bench - latency run against ${backend} counts every message and writes .hgrm, JSON, Markdown and SVG`, async () => {
      const dataDirsBefore = benchDataDirs()
      const { json, files, markdown } = await smoke(latencyScenario, {
        backend,
        durationMs: 500,
        configs: ['256B-3k'],
        qos: [0, 1],
      })
      const runs = json.runs as {
        variant: string
        qos: number
        spool?: string
        counts: Counts
        latency: { count: number }
      }[]
      // edgebridge is measured as it ships: disk spool, fsync always; its data directory goes with the run.
      for (const r of runs.filter((r) => r.variant === 'edgebridge')) assert.equal(r.spool, 'always')
      assert.match(markdown, /edgebridge -> \w+ \(disk spool, fsync always\)/)
      assert.deepEqual(
        benchDataDirs().filter((d) => !dataDirsBefore.includes(d)),
        [],
        'no data directory left',
      )
      // nats-server's own MQTT support is the extra reference of the NATS scenarios (when it is installed).
      const native = natsMqttReferenceAvailable(backend) ? ['nats-mqtt/0', 'nats-mqtt/1'] : []
      assert.deepEqual(
        runs.map((r) => `${r.variant}/${r.qos}`).sort(),
        ['aedes/0', 'aedes/1', 'direct/1', 'edgebridge/0', 'edgebridge/1', ...native].sort(),
      )
      for (const r of runs) {
        assertAllDelivered(r.counts, `${r.variant} qos ${r.qos}`)
        assert.equal(r.latency.count, r.counts.received, 'every arrival is in the histogram')
      }
      for (const name of [
        'latency-256B-3k-direct.hgrm',
        'latency-256B-3k-qos0-edgebridge.hgrm',
        'latency-256B-3k-qos1-aedes.hgrm',
        'latency-256B-3k-qos0.svg',
        'latency-256B-3k-qos1.svg',
      ]) {
        assert.ok(files.includes(name), `${name} written`)
      }
      const svg = readFileSync(join(root, `latency-${backend}`, 'latency-256B-3k-qos1.svg'), 'utf8')
      assert.match(svg, /^<svg/)
      assert.match(svg, /99\.9%/, 'the percentile axis is labelled in nines')
      const hgrm = readFileSync(join(root, `latency-${backend}`, 'latency-256B-3k-direct.hgrm'), 'utf8')
      assert.match(hgrm, /Value\s+Percentile\s+TotalCount/)
    })
  }

  it('bench - throughput run counts sent, acknowledged and delivered messages, a row per spool', async () => {
    const { json, markdown } = await smoke(throughputScenario, { spools: ['always', 'memory'] })
    const runs = json.runs as (Counts & { variant: string; label: string; acked: number })[]
    assert.deepEqual(
      runs.map((r) => r.variant),
      ['direct', 'aedes', 'edgebridge', 'edgebridge'],
    )
    // The first spool asked for is the headline (the ratios are of it), each has its own row.
    assert.deepEqual(
      runs.filter((r) => r.variant === 'edgebridge').map((r) => r.label),
      ['edgebridge -> redis (disk spool, fsync always)', 'edgebridge -> redis (memory spool)'],
    )
    assert.match(
      markdown,
      /\| edgebridge -> redis \(disk spool, fsync always\) \|[^\n]*\n\| edgebridge -> redis \(memory spool\) \|/,
    )
    for (const r of runs) {
      assertAllDelivered(r, r.variant)
      assert.equal(r.acked, r.sent, `${r.variant}: every message acknowledged`)
    }
  })

  it('bench - kafka throughput run reports the ratio to 1/(1/A + 1/K) from its own A and K', async () => {
    const { json } = await smoke(kafkaThroughputScenario, { backend: 'kafka' })
    type Run = Counts & { variant: string; ackedPerSecond: number; deliveredPerSecond: number }
    const runs = json.runs as Run[]
    for (const r of runs) assertAllDelivered(r, r.variant)
    // Not a timing assertion: whatever the machine did, the reported bound must be the one the
    // scenario is named after, computed from the A and K measured in the same run.
    const byVariant = new Map(runs.map((r) => [r.variant, r]))
    const A = byVariant.get('aedes')!.ackedPerSecond
    const K = byVariant.get('direct')!.deliveredPerSecond
    const E = byVariant.get('edgebridge')!.deliveredPerSecond
    // Measured as the daemon ships: the bound is a target for the disk spool with fsync always.
    assert.equal(
      (byVariant.get('edgebridge') as Run & { label: string }).label,
      'edgebridge -> kafka (disk spool, fsync always)',
    )
    assert.ok(A > 0 && K > 0 && E > 0, `every stage moved messages (A ${A}, K ${K}, E ${E})`)
    const kafka = json.kafka as { A: number; K: number; bound: number; edgebridge: number; ratio: number }
    assert.equal(kafka.A, A, 'A is the plain aedes run')
    assert.equal(kafka.K, K, 'K is the direct kafkajs run')
    assert.equal(kafka.edgebridge, E)
    const close = (x: number, y: number) => Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y))
    assert.ok(
      close(kafka.bound, (A * K) / (A + K)),
      `bound ${kafka.bound} = 1/(1/A + 1/K) = ${(A * K) / (A + K)}`,
    )
    // Two stages in series are slower than either alone.
    assert.ok(kafka.bound < Math.min(A, K), 'the bound is below both A and K')
    assert.ok(close(kafka.ratio, E / kafka.bound), `ratio ${kafka.ratio} = edgebridge / bound`)
  })

  it('bench - spool relay run compares a disk spool with the memory spool', async () => {
    const { json } = await smoke(spoolRelayScenario, { fsync: ['always'] })
    const runs = json.runs as (Counts & { label: string })[]
    assert.deepEqual(
      runs.map((r) => r.label),
      ['memory', 'disk, fsync always'],
    )
    for (const r of runs) assertAllDelivered(r, r.label)
  })

  it('bench - replay run drains a backlog built while the core was down, live traffic included', async () => {
    const { json } = await smoke(replayScenario, { backlog: 2000, liveRate: 200 })
    const replay = json.replay as { counts: Counts; backlog: number; liveIssued: number }
    assertAllDelivered(replay.counts, 'replay')
    assert.equal(replay.counts.sent, replay.backlog + replay.liveIssued)
  })

  it('bench - request-reply run answers every request through the gateway and directly, and reports the ratios', async () => {
    const { json, files } = await smoke(requestReplyScenario, { backend: 'nats', requestRate: 200 })
    type Run = {
      variant: string
      sent: number
      answered: number
      lost: number
      gatewayAnswers: Record<string, number>
      latency: { count: number; percentilesUs: Record<string, number> }
    }
    const runs = json.runs as Run[]
    assert.deepEqual(
      runs.map((r) => r.variant),
      ['direct', 'edgebridge'],
    )
    for (const r of runs) {
      assert.ok(r.sent > 0, `${r.variant}: something was sent`)
      assert.equal(r.answered, r.sent, `${r.variant}: every request answered by its device`)
      assert.deepEqual(r.gatewayAnswers, {}, `${r.variant}: no answer in the device's place`)
      assert.equal(r.lost, 0, `${r.variant}: nothing lost`)
      assert.equal(r.latency.count, r.answered, 'every answer is in the histogram')
    }
    // Not a timing assertion: the reported ratios are the ones of the two runs it reports.
    const [direct, edge] = runs as [Run, Run]
    const ratios = json.ratios as { p50: number; p99: number }
    for (const p of ['p50', 'p99'] as const)
      assert.equal(ratios[p], (edge.latency.percentilesUs[p] ?? 0) / (direct.latency.percentilesUs[p] ?? 0))
    for (const name of ['request-reply-direct.hgrm', 'request-reply-edgebridge.hgrm', 'request-reply.svg'])
      assert.ok(files.includes(name), `${name} written`)
  })

  it('bench - memory run opens the idle connections it reports', async () => {
    const { json } = await smoke(memoryScenario, { connectionCounts: [20] })
    const m = json.memory as { measurements: { connections: number; connectedAtBroker?: number }[] }
    const withClients = m.measurements.filter((x) => x.connections > 0)
    assert.equal(withClients.length, 2)
    for (const x of withClients) {
      assert.equal(x.connections, 20)
      assert.equal(x.connectedAtBroker, 20)
    }
  })

  it('bench - status-page run delivers everything with and without a paused page, and counts what the page missed', async () => {
    const { json } = await smoke(statusPageScenario, { durationMs: 1000 })
    const runs = json.runs as { variant: string; counts: Counts }[]
    assert.equal(runs.length, 2)
    for (const r of runs) assertAllDelivered(r.counts, r.variant)
    assert.equal(typeof json.droppedTailEvents, 'number')
  })
})
