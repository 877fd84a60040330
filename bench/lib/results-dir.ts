/**
 * Where a run writes its files: bench/results/<timestamp>-<scenario>/ in the repository (git-ignored),
 * or the directory given with --out.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root: the nearest directory upward holding edgebridge's package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'edgebridge') return dir
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir)
    if (up === dir) return process.cwd()
    dir = up
  }
}

export function resultsDir(scenario: string, out?: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const dir = out !== undefined ? resolve(out) : join(repoRoot(), 'bench', 'results', `${stamp}-${scenario}`)
  mkdirSync(dir, { recursive: true })
  return dir
}
