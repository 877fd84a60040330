/**
 * Runs one scenario end to end: results directory, machine description, progress bar, report files.
 * Used by `edgebridge bench` and by the smoke test.
 */
import { coreEndpoint } from './core-endpoint.js'
import { describeMachine } from './machine.js'
import { createProgress } from './progress.js'
import { ReportWriter } from './report.js'
import { resultsDir } from './results-dir.js'
import type { BenchOptions, Scenario } from './scenario.js'

export interface RunScenarioExtras {
  out?: string | undefined
  redisUrl?: string | undefined
  natsServers?: string | undefined
  kafkaBrokers?: string | undefined
  /** Show a progress bar (only ever on a terminal). */
  progress?: boolean
  /** Where progress lines go; stdout by default, nothing in tests. */
  log?: (line: string) => void
}

export interface ScenarioOutcome {
  dir: string
  markdown: string
  files: string[]
}

export async function runScenario(
  scenario: Scenario,
  options: BenchOptions,
  extras: RunScenarioExtras = {},
): Promise<ScenarioOutcome> {
  const endpoint = coreEndpoint(options.backend, extras)
  const dir = resultsDir(scenario.name, extras.out)
  const machine = await describeMachine(endpoint)
  const report = new ReportWriter(dir, scenario.name, machine, options)
  const log = extras.log ?? ((line: string) => process.stdout.write(line + '\n'))
  const progress = createProgress(
    extras.log !== undefined
      ? 'off'
      : extras.progress !== false && process.stdout.isTTY === true
        ? 'bar'
        : 'lines',
  )
  log(`edgebridge bench ${scenario.name} (backend ${options.backend}) -> ${dir}`)
  try {
    await scenario.run({ options, endpoint, report, progress, log })
  } finally {
    progress.stop()
  }
  const markdown = report.finish()
  return { dir, markdown, files: report.files }
}

/** Defaults as the CLI has them, for programmatic runs (tests). */
export function defaultBenchOptions(overrides: Partial<BenchOptions> = {}): BenchOptions {
  return {
    backend: 'redis',
    durationMs: 30_000,
    graceMs: 5_000,
    qos: [0, 1],
    configs: [],
    devices: 20,
    window: 10,
    payloadBytes: 256,
    backlog: 1_000_000,
    liveRate: 2000,
    connectionCounts: [1000, 10_000],
    spools: ['always'],
    fsync: ['always', 'interval', 'never'],
    stores: ['memory'],
    retain: false,
    requestRate: 500,
    ...overrides,
  }
}
