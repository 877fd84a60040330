/**
 * The check downlink and request rules share against the configured backend: each rule's source in
 * the core's syntax, one rule per source. `more` checks the rest of a rule whose source is sound.
 */
import type { BackendDescriptor } from '../../backends/descriptor.js'
import { isObject, problemLine, type Problem } from '../problem.js'

export function ruleSourceProblems<R extends { source: string }>(
  section: string,
  rules: readonly R[],
  backend: BackendDescriptor,
  more: (rule: R, at: string) => string[],
): string[] {
  const out: string[] = []
  const seen = new Map<string, number>()
  rules.forEach((rule, i) => {
    const at = `${section}.rules[${i}]`
    const other = seen.get(rule.source)
    const sp = backend.sourceProblem(rule.source)
    const sourceMust =
      sp !== undefined
        ? `${sp.replace(/^must /, '')} (core.backend is ${backend.name})`
        : other !== undefined
          ? `differ from ${section}.rules[${other}].source (one rule per source)`
          : undefined
    if (sourceMust !== undefined) {
      out.push(problemLine(`${at}.source`, rule.source, sourceMust))
      return
    }
    seen.set(rule.source, i)
    out.push(...more(rule, at))
  })
  return out
}

/**
 * The shape of a rule list, before the backend is known: a list of objects with only `keys` and a
 * non-empty `source`; `more` checks the rest of each rule (`at` is its index, `[i]`).
 */
export function ruleListShapeProblem(
  value: unknown,
  what: string,
  keys: ReadonlySet<string>,
  shape: string,
  more: (rule: Record<string, unknown>, at: string) => Problem | undefined,
): true | Problem | string {
  if (!Array.isArray(value)) return `be a list of ${what} (${shape})`
  for (let i = 0; i < value.length; i++) {
    const r: unknown = value[i]
    const at = `[${i}]`
    if (!isObject(r)) return { at, value: r, must: `be an object ${shape}` }
    for (const k of Object.keys(r)) {
      if (!keys.has(k)) return { at: `${at}.${k}`, value: r[k], must: `not be set: rules are ${shape}` }
    }
    if (typeof r.source !== 'string' || r.source === '')
      return {
        at: `${at}.source`,
        value: r.source,
        must: 'be a non-empty name in the core: NATS subject, Redis channel pattern or stream key, Kafka topic',
      }
    const problem = more(r, at)
    if (problem !== undefined) return problem
  }
  return true
}
