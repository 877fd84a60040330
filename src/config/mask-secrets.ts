/**
 * A copy of the configuration safe to log: secrets become "********" (an empty secret stays empty, so
 * the log still shows whether one is set), and passwords inside URLs (redis://:pw@host) are masked.
 */
import type { EdgebridgeConfig } from './types.js'

export const MASK = '********'

// Keys whose values are secrets; *File keys hold paths to secrets, which are fine to log.
const SECRET_KEY = /(password|token|secret|key)$/i

function maskUrl(value: string): string {
  try {
    const url = new URL(value)
    if (url.password === '') return value
    url.password = MASK
    return url.toString()
  } catch {
    return value
  }
}

function maskNode(node: unknown, key: string, inStructuredList: boolean): unknown {
  if (Array.isArray(node)) {
    // Routes and listeners carry no secrets; their `key` is a Kafka key template, not a secret key.
    if (key === 'routes' || key === 'listeners') return node.map((x) => structuredClone(x) as unknown)
    return node.map((x) => (typeof x === 'string' ? maskUrl(x) : maskNode(x, key, true)))
  }
  if (typeof node === 'object' && node !== null) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(node)) out[k] = maskNode(v, k, inStructuredList)
    return out
  }
  if (typeof node === 'string') {
    if (SECRET_KEY.test(key) && !/File$/.test(key)) return node === '' ? '' : MASK
    if (key === 'url' || key === 'servers') return maskUrl(node)
  }
  return node
}

export function maskSecrets(config: EdgebridgeConfig): unknown {
  return maskNode(config, '', false)
}
