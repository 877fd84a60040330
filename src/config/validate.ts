/**
 * Validation with messages an operator can act on: one line per problem, naming the key, the value
 * and what was expected, e.g. `mqtt.port: "abc" is not valid: must be a port number (0-65535)`.
 * Secret values are never echoed.
 */
import { isProblem } from './formats.js'
import { forEachLeaf, type Section } from './schema/index.js'

const MAX_VALUE_CHARS = 120

export function describeValue(value: unknown, secret: boolean): string {
  if (value === undefined) return '(missing)'
  if (secret) return '"********"'
  const json = JSON.stringify(value) ?? String(value)
  return json.length > MAX_VALUE_CHARS ? `${json.slice(0, MAX_VALUE_CHARS)}...` : json
}

export function problemLine(key: string, value: unknown, must: string, secret = false): string {
  return `${key}: ${describeValue(value, secret)} is not valid: must ${must}`
}

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
