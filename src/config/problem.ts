/**
 * How a configuration problem reads to an operator: one line naming the key, the value and what was
 * expected, e.g. `mqtt.port: "abc" is not valid: must be a port number (0-65535)`. Secret values are
 * never echoed. A leaf module: every section's check and the loader format problems here, and it
 * imports nothing, so no check can pull the schema back in.
 */

/** A problem found inside a structured value: `at` extends the key, e.g. "[1].port". */
export interface Problem {
  at: string
  value: unknown
  /** Completes "must ...". */
  must: string
}

export function isProblem(r: unknown): r is Problem {
  return typeof r === 'object' && r !== null && 'at' in r && 'must' in r
}

/** A JSON object (not an array, not null): the shape of a route, a listener, a rule, a file's section. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

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
