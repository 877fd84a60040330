/** docs/architecture.md stays true: every file or folder it names exists, and it names the main ones. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const page = readFileSync(`${root}docs/architecture.md`, 'utf8')

/** Every `code span` that is a repository path: it has a slash and is a file with an extension or a folder. */
function namedPaths(markdown: string): string[] {
  const spans = [...markdown.matchAll(/`([^`\s]+)`/g)].map((m) => m[1] as string)
  return [...new Set(spans.filter((s) => /^(src|docs|test|config|bench|systemd|deploy)\//.test(s)))]
}

test('docs architecture - every path the page names exists', () => {
  const paths = namedPaths(page)
  assert.ok(paths.length >= 30, `the page names ${paths.length} paths`)
  const missing = paths.filter((p) => !existsSync(`${root}${p}`))
  assert.deepEqual(missing, [], 'named in docs/architecture.md but not in the repository')
})

test('docs architecture - the page names every folder of src/ and the backend contract', () => {
  for (const required of [
    'src/ingress/',
    'src/routing/',
    'src/spool/',
    'src/forwarder/',
    'src/backends/',
    'src/downlink/',
    'src/config/',
    'src/observability/',
    'src/backends/backend.ts',
    'src/backends/registry.ts',
    'src/record.ts',
  ])
    assert.ok(page.includes(`\`${required}\``), required)
})
