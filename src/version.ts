/** The version of this edgebridge, from its package.json (for `--version`, logs and /metrics). */
import { readFileSync } from 'node:fs'

export function version(): string {
  // src/version.ts (run from source) and dist/src/version.js (built) sit at different depths.
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as {
        name?: string
        version: string
      }
      if (pkg.name === 'edgebridge') return pkg.version
    } catch {
      // not at this depth
    }
  }
  return 'unknown'
}
