/**
 * deploy/: the Prometheus alerting rules pass `promtool check rules` and their own unit tests
 * (`promtool test rules`, Debian package prometheus), and the rules and the Grafana dashboard use only
 * metric names the gateway exports, so a renamed metric cannot leave an alert that never fires.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { it } from 'node:test'
import { GatewayMetrics } from '../../src/observability/metrics.js'
import { findBinary } from '../support/server-process.js'

const deploy = fileURLToPath(new URL('../../deploy/', import.meta.url))
const rulesFile = `${deploy}prometheus/edgebridge-alerts.yml`
const rulesTests = `${deploy}prometheus/edgebridge-alerts.test.yml`
const dashboardFile = `${deploy}grafana/edgebridge-dashboard.json`
const promtool = findBinary('promtool')
const noPromtool = promtool === null ? 'promtool is not installed (Debian package prometheus)' : false

function run(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) =>
    execFile(promtool!, args, { cwd: `${deploy}prometheus` }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    ),
  )
}

/** Every sample name the gateway can export: each family, and a histogram's _bucket/_sum/_count. */
async function exportedNames(): Promise<Set<string>> {
  const metrics = new GatewayMetrics()
  const names = new Set<string>()
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name)
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s)
  }
  return names
}

const usedNames = (text: string) => new Set(text.match(/\bedgebridge_[a-z0-9_]+/g) ?? [])

it(
  'deploy - the alerting rules pass promtool check rules and their unit tests',
  { skip: noPromtool },
  async () => {
    const check = await run(['check', 'rules', rulesFile])
    assert.equal(check.code, 0, check.output)
    assert.match(check.output, /SUCCESS: 6 rules found/)
    const tests = await run(['test', 'rules', rulesTests])
    assert.equal(tests.code, 0, tests.output)
  },
)

it('deploy - the alerts cover spool fill, backlog age, core down, drops and dead letters', () => {
  const rules = readFileSync(rulesFile, 'utf8')
  for (const alert of [
    'EdgebridgeSpoolAlmostFull',
    'EdgebridgeBacklogOld',
    'EdgebridgeCoreDown',
    'EdgebridgeRecordsDropped',
    'EdgebridgeDeadLetters',
  ]) {
    assert.match(rules, new RegExp(`alert: ${alert}\\n`), alert)
  }
})

it('deploy - the rules and the Grafana dashboard use only metric names the gateway exports', async () => {
  const exported = await exportedNames()
  const dashboard = readFileSync(dashboardFile, 'utf8')
  const parsed = JSON.parse(dashboard) as { panels: Array<{ targets: Array<{ expr: string }> }> }
  assert.ok(parsed.panels.length >= 10)
  for (const [file, text] of [
    [rulesFile, readFileSync(rulesFile, 'utf8')],
    [dashboardFile, dashboard],
  ] as const) {
    const used = usedNames(text)
    assert.ok(used.size > 5, file)
    for (const name of used)
      assert.ok(exported.has(name), `${file} uses ${name}, which the gateway does not export`)
  }
})
