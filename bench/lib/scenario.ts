/**
 * What every scenario gets (parsed options, where to write, a progress bar) and what it returns.
 */
import type { BackendName } from '../../src/config/types.js'
import type { CoreEndpoint } from './core-endpoint.js'
import type { SpoolChoice } from './daemon-config.js'
import type { Progress } from './progress.js'
import type { ReportWriter } from './report.js'

export interface BenchOptions {
  backend: BackendName
  /** Per measured run. */
  durationMs: number
  graceMs: number
  qos: (0 | 1)[]
  /** Latency configurations by name; empty = all five. */
  configs: string[]
  devices: number
  window: number
  payloadBytes: number
  backlog: number
  liveRate: number
  connectionCounts: number[]
  /**
   * latency and throughput: the spools edgebridge is measured with, a row each; default the one the daemon ships
   * with (disk, fsync always).
   */
  spools: SpoolChoice[]
  /** Spool fsync policies for spool-relay; default all three. */
  fsync: ('always' | 'interval' | 'never')[]
  /** Broker store kinds for spool-relay (each spool variant runs with each); default memory. */
  stores: ('memory' | 'disk')[]
  /** spool-relay: devices publish retained messages (each one a write to the broker store). */
  retain: boolean
  /** request-reply: requests per second, across all devices. */
  requestRate: number
}

export interface ScenarioContext {
  options: BenchOptions
  endpoint: CoreEndpoint
  report: ReportWriter
  progress: Progress
  log(line: string): void
}

export interface Scenario {
  name: string
  summary: string
  run(ctx: ScenarioContext): Promise<void>
}
