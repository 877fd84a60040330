/**
 * Backend knowledge lives in src/backends/ (each backend's descriptor): no code outside it branches
 * on a backend's name. A branch like `case 'kafka':` elsewhere is how the copies that disagreed grew.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const BACKENDS = ['kafka', 'nats', 'jetstream', 'redis', 'redis-streams']
const BRANCH = new RegExp(`case '(${BACKENDS.join('|')})'|(backend|\\.name) === '(${BACKENDS.join('|')})'`)

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sources(path)
    return e.name.endsWith('.ts') ? [path] : []
  })
}

test('layout - no code outside src/backends/ branches on a backend name (it asks the descriptor)', () => {
  const outside = sources(join(root, 'src')).filter((f) => !relative(root, f).startsWith('src/backends/'))
  assert.ok(outside.length > 50, `read ${outside.length} files`)
  const branches = outside.flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .flatMap((line, i) => (BRANCH.test(line) ? [`${relative(root, f)}:${i + 1}: ${line.trim()}`] : [])),
  )
  assert.deepEqual(branches, [])
})
