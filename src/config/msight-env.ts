/**
 * Compatibility with MSight's environment variables, so a gateway can join an MSight deployment with
 * the variables it already has:
 *
 * - MSIGHT_PUBSUB_BACKEND=redis|nats|kafka                 -> core.backend
 * - MSIGHT_NATS_SERVERS="['nats://localhost:4222']"        -> nats.servers
 * - MSIGHT_KAFKA_SERVERS="['localhost:9092']"              -> kafka.brokers
 *
 * The lists are Python list literals in a string (single or double quotes, spaces, a trailing comma);
 * a bare value without brackets is one server. MSight's group_id is a node setting in code, not an
 * environment variable: set core.groupId (EDGEBRIDGE_GROUP_ID) to the same value.
 *
 * An EDGEBRIDGE_* variable wins over its MSIGHT_* counterpart; the MSIGHT_* one is then ignored.
 */
import { ConfigError } from '../errors.js'

const BACKENDS: Record<string, string> = {
  redis: 'redis',
  nats: 'nats',
  kafka: 'kafka',
  // Not MSight's own names, but an operator may well write them here.
  jetstream: 'jetstream',
  'redis-streams': 'redis-streams',
}

/** Parse a Python-style list of strings: ['a', "b"], [a], or a bare a. Throws Error with the reason. */
export function parsePythonList(raw: string): string[] {
  const s = raw.trim()
  if (s === '') throw new Error('is empty')
  if (!s.startsWith('[')) {
    if (s.endsWith(']')) throw new Error("has a ']' without '['")
    return [unquote(s)]
  }
  if (!s.endsWith(']')) throw new Error("has a '[' without ']'")
  const body = s.slice(1, -1)
  const items: string[] = []
  let i = 0
  while (i < body.length) {
    while (i < body.length && /\s/.test(body[i] as string)) i++
    if (i >= body.length) break
    const ch = body[i] as string
    let item: string
    if (ch === "'" || ch === '"') {
      const close = body.indexOf(ch, i + 1)
      if (close === -1) throw new Error(`has an unterminated ${ch} quote`)
      item = body.slice(i + 1, close)
      i = close + 1
    } else if (ch === ',') {
      throw new Error('has an empty item')
    } else {
      const comma = body.indexOf(',', i)
      const end = comma === -1 ? body.length : comma
      item = body.slice(i, end).trim()
      if (/['"[\]]/.test(item)) throw new Error(`has a malformed item ${JSON.stringify(item)}`)
      i = end
    }
    items.push(item.trim())
    while (i < body.length && /\s/.test(body[i] as string)) i++
    if (i < body.length) {
      if (body[i] !== ',') throw new Error(`expects ',' between items at ${JSON.stringify(body.slice(i))}`)
      i++
    }
  }
  if (items.length === 0) throw new Error('is an empty list')
  if (items.some((item) => item === '')) throw new Error('has an empty item')
  return items
}

function unquote(s: string): string {
  const q = s[0]
  if ((q === "'" || q === '"') && s.length >= 2 && s.endsWith(q)) return s.slice(1, -1).trim()
  if (q === "'" || q === '"') throw new Error(`has an unterminated ${q} quote`)
  return s
}

function listVar(env: NodeJS.ProcessEnv, name: string, example: string): string {
  const raw = env[name] as string
  try {
    return parsePythonList(raw).join(',')
  } catch (err) {
    throw new ConfigError(
      `${name}: ${JSON.stringify(raw)} is not valid: must be a Python-style list such as "${example}" (it ${(err as Error).message})`,
    )
  }
}

/**
 * A copy of `env` with the EDGEBRIDGE_* variables that MSIGHT_* ones stand for filled in, where the
 * EDGEBRIDGE_* one is not set. Throws ConfigError naming the MSIGHT_* variable when it is malformed.
 */
export function applyMsightEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env }
  const unset = (name: string): boolean => env[name] === undefined || env[name] === ''
  const given = (name: string): boolean => env[name] !== undefined && env[name] !== ''

  if (given('MSIGHT_PUBSUB_BACKEND') && unset('EDGEBRIDGE_BACKEND')) {
    const raw = env.MSIGHT_PUBSUB_BACKEND as string
    const backend = BACKENDS[raw.trim().toLowerCase()]
    if (backend === undefined) {
      throw new ConfigError(
        `MSIGHT_PUBSUB_BACKEND: ${JSON.stringify(raw)} is not valid: must be one of "redis", "nats", "kafka" (or "jetstream", "redis-streams")`,
      )
    }
    out.EDGEBRIDGE_BACKEND = backend
  }
  if (given('MSIGHT_NATS_SERVERS') && unset('EDGEBRIDGE_NATS_SERVERS')) {
    out.EDGEBRIDGE_NATS_SERVERS = listVar(env, 'MSIGHT_NATS_SERVERS', "['nats://localhost:4222']")
  }
  if (given('MSIGHT_KAFKA_SERVERS') && unset('EDGEBRIDGE_KAFKA_BROKERS')) {
    out.EDGEBRIDGE_KAFKA_BROKERS = listVar(env, 'MSIGHT_KAFKA_SERVERS', "['localhost:9092']")
  }
  return out
}
