/**
 * Checking a loaded configuration against the schema: every leaf's format, in schema order, each
 * problem as one line (problem.ts).
 */
import { isProblem, problemLine } from './problem.js'
import { forEachLeaf, type Section } from './schema/leaf.js'

function get(obj: unknown, path: readonly string[]): unknown {
  let cur: unknown = obj
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Record<string, unknown>)[p]
  }
  return cur
}

/** Every problem with `config` against `schema`, in schema order; empty when valid. */
export function schemaProblems(schema: Section, config: unknown): string[] {
  const problems: string[] = []
  forEachLeaf(schema, (path, leaf) => {
    const value = get(config, path)
    const r = leaf.format.check(value)
    if (r === true) return
    const key = path.join('.')
    if (isProblem(r)) problems.push(problemLine(`${key}${r.at}`, r.value, r.must, leaf.secret))
    else
      problems.push(
        problemLine(key, value, typeof r === 'string' ? r : `be ${leaf.format.expect}`, leaf.secret),
      )
  })
  return problems
}
