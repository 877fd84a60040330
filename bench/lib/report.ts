/**
 * Writes a run's files into its results directory: results.json (everything measured), results.md
 * (the tables), one .hgrm per latency histogram and one SVG plot per compared configuration.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { MachineInfo } from './machine.js'
import { machineLine } from './machine.js'
import { percentilePlotSvg, type Series } from './plot.js'

export class ReportWriter {
  private readonly sections: string[] = []
  private readonly data: Record<string, unknown> = {}
  readonly files: string[] = []

  constructor(
    readonly dir: string,
    readonly scenario: string,
    private readonly machine: MachineInfo,
    private readonly options: unknown,
  ) {}

  /** A Markdown section (heading + body) for results.md. */
  section(heading: string, body: string): void {
    this.sections.push(`### ${heading}\n\n${body}\n`)
  }

  /** A named part of results.json. */
  set(key: string, value: unknown): void {
    this.data[key] = value
  }

  writeText(name: string, text: string): string {
    const path = join(this.dir, name)
    writeFileSync(path, text)
    this.files.push(path)
    return path
  }

  async plot(name: string, title: string, series: Series[]): Promise<string> {
    return this.writeText(name, await percentilePlotSvg(title, series))
  }

  /** Writes results.json and results.md; returns the Markdown. */
  finish(): string {
    const json = {
      scenario: this.scenario,
      finishedAt: new Date().toISOString(),
      machine: this.machine,
      options: this.options,
      ...this.data,
    }
    this.writeText('results.json', JSON.stringify(json, null, 2) + '\n')
    const md = [
      `## ${this.scenario}`,
      '',
      `Machine: ${machineLine(this.machine)}.`,
      '',
      ...this.sections,
    ].join('\n')
    this.writeText('results.md', md)
    return md
  }
}
