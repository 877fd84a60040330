/**
 * The top of a V8 CPU profile (`.cpuprofile`, as written by `node --cpu-prof`): self time per
 * function and per package or source file, as Markdown tables. Used to compare the hot path before
 * and after a change; the bench writes profiles with EDGEBRIDGE_BENCH_CPU_PROF=<dir>.
 *
 *   node --import tsx bench/lib/profile-top.ts <file.cpuprofile> [rows]
 */
import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** `node_modules/<pkg>` (scoped too), `src/<dir>/<file>`, `node:<module>`, or the V8 pseudo-frame. */
function owner(url: string, functionName: string): string {
  if (url === '') return `(${functionName || 'native'})`
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (pkg !== null) return pkg[1] ?? url
  if (url.startsWith('node:')) return url
  const own = /\/((?:src|bench|test)\/.*)$/.exec(url)
  return own?.[1] ?? url
}

export function profileTop(profile: CpuProfile, rows: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfMicros = new Map<number, number>()
  profile.samples.forEach((id, i) => {
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  const total = [...selfMicros.values()].reduce((a, b) => a + b, 0)
  const byFunction = new Map<string, number>()
  const byOwner = new Map<string, number>()
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)?.callFrame
    if (frame === undefined) continue
    const where = owner(frame.url, frame.functionName)
    const fn = `${frame.functionName || '(anonymous)'} ${where}${frame.url === '' ? '' : `:${frame.lineNumber + 1}`}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros)
    byOwner.set(where, (byOwner.get(where) ?? 0) + micros)
  }
  const table = (title: string, m: Map<string, number>): string =>
    [
      `| ${title} | self ms | share |`,
      '| --- | ---: | ---: |',
      ...[...m.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, rows)
        .map(
          ([k, v]) =>
            `| ${k.replaceAll('|', '\\|')} | ${(v / 1000).toFixed(0)} | ${((100 * v) / total).toFixed(1)} % |`,
        ),
    ].join('\n')
  return [
    `Sampled ${(total / 1e6).toFixed(1)} s.`,
    '',
    table('function', byFunction),
    '',
    table('package or file', byOwner),
  ].join('\n')
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const file = process.argv[2]
  if (file === undefined) {
    process.stderr.write('usage: profile-top <file.cpuprofile> [rows]\n')
    process.exit(64)
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  process.stdout.write(profileTop(profile, Number(process.argv[3] ?? 25)) + '\n')
}
