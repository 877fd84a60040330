/**
 * Reads a Prometheus text exposition the way a scraper does, for assertions: each sample by its name
 * and labels. Also the HTTP side of a daemon under test: its port from the "edgebridge ready" line.
 */
import assert from 'node:assert/strict'
import type { DaemonProcess } from './daemon-process.js'

export interface Scrape {
  /** Every sample line's name (with labels, as printed) to its value. */
  samples: Map<string, number>
  /** Names declared by # TYPE lines. */
  families: Set<string>
  /** The value of `name` with exactly `labels` (in any order); undefined when absent. */
  value(name: string, labels?: Record<string, string>): number | undefined
  /** Like value(), failing the test when absent. */
  get(name: string, labels?: Record<string, string>): number
}

export function parseScrape(text: string): Scrape {
  const samples = new Map<string, number>()
  const families = new Set<string>()
  const byKey = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) families.add(line.split(' ')[2]!)
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line)
    assert.ok(m, `not a sample line: ${line}`)
    const value = Number(m[4])
    samples.set(`${m[1]}${m[2] ?? ''}`, value)
    const labels: Record<string, string> = {}
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!
    byKey.set(keyOf(m[1]!, labels), value)
  }
  const value = (name: string, labels: Record<string, string> = {}) => byKey.get(keyOf(name, labels))
  return {
    samples,
    families,
    value,
    get(name, labels = {}) {
      const v = value(name, labels)
      assert.notEqual(v, undefined, `no sample ${name}${JSON.stringify(labels)} in the scrape`)
      return v as number
    },
  }
}

function keyOf(name: string, labels: Record<string, string>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))}`
}

/** The HTTP base URL of a daemon started by DaemonProcess (its last "edgebridge ready" line). */
export function httpBaseOf(daemon: DaemonProcess): string {
  const ready = daemon.find('edgebridge ready').at(-1)
  const port = ready?.httpPort
  assert.equal(typeof port, 'number', `the daemon logged no HTTP port: ${JSON.stringify(ready)}`)
  return `http://127.0.0.1:${port as number}`
}

export async function scrape(base: string, init?: RequestInit): Promise<Scrape> {
  const res = await fetch(`${base}/metrics`, init)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
  return parseScrape(await res.text())
}
