import type { EdgebridgeConfig, ListenerConfig } from '../types.js'
import * as f from '../formats.js'
import { isObject, type Problem } from '../problem.js'
import { leaf, type Section } from './leaf.js'

const TYPES = ['tcp', 'tls', 'ws', 'wss']
const LISTENER_KEYS = new Set(['type', 'host', 'port', 'path', 'allowAnonymous', 'maxConnections', 'tls'])
const TLS_KEYS = new Set([
  'certFile',
  'keyFile',
  'caFile',
  'requireCertificate',
  'useIdentityAsUsername',
  'minVersion',
])
const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3']

function fieldProblem(format: f.Format, at: string, value: unknown): Problem | undefined {
  const r = format.check(value)
  if (r === true) return undefined
  return { at, value, must: typeof r === 'string' ? r : `be ${format.expect}` }
}

/** Check each listener; only `type` and `port` are required, the rest have defaults (see normalizeListeners). */
export function listenersProblem(value: unknown): true | Problem | string {
  if (!Array.isArray(value)) return 'be a list of listeners ({ type, port, ... })'
  const seen = new Map<string, number>()
  for (let i = 0; i < value.length; i++) {
    const l: unknown = value[i]
    const at = `[${i}]`
    if (!isObject(l))
      return {
        at,
        value: l,
        must: 'be an object { type, port, host?, path?, allowAnonymous?, maxConnections?, tls? }',
      }
    for (const k of Object.keys(l)) {
      if (!LISTENER_KEYS.has(k))
        return {
          at: `${at}.${k}`,
          value: l[k],
          must: `not be set: listeners have ${[...LISTENER_KEYS].join(', ')}`,
        }
    }
    if (typeof l.type !== 'string' || !TYPES.includes(l.type)) {
      return {
        at: `${at}.type`,
        value: l.type,
        must: `be one of ${TYPES.map((t) => JSON.stringify(t)).join(', ')}`,
      }
    }
    const p =
      fieldProblem(f.port, `${at}.port`, l.port) ??
      (l.host === undefined ? undefined : fieldProblem(f.host, `${at}.host`, l.host)) ??
      (l.allowAnonymous === undefined
        ? undefined
        : fieldProblem(f.boolOrAuto, `${at}.allowAnonymous`, l.allowAnonymous)) ??
      (l.maxConnections === undefined
        ? undefined
        : fieldProblem(f.nonNegativeInt, `${at}.maxConnections`, l.maxConnections))
    if (p !== undefined) return p
    if (l.path !== undefined && (typeof l.path !== 'string' || !l.path.startsWith('/'))) {
      return { at: `${at}.path`, value: l.path, must: 'be a URL path starting with /' }
    }
    const tls = l.tls ?? {}
    if (!isObject(tls)) return { at: `${at}.tls`, value: tls, must: 'be an object' }
    for (const k of Object.keys(tls)) {
      if (!TLS_KEYS.has(k))
        return {
          at: `${at}.tls.${k}`,
          value: tls[k],
          must: `not be set: listener tls has ${[...TLS_KEYS].join(', ')}`,
        }
    }
    const secure = l.type === 'tls' || l.type === 'wss'
    for (const k of ['certFile', 'keyFile', 'caFile'] as const) {
      const v = tls[k]
      if (v === undefined) continue
      const fp = fieldProblem(f.filePath, `${at}.tls.${k}`, v)
      if (fp !== undefined) return fp
    }
    for (const k of ['requireCertificate', 'useIdentityAsUsername'] as const) {
      if (tls[k] !== undefined && typeof tls[k] !== 'boolean')
        return { at: `${at}.tls.${k}`, value: tls[k], must: 'be true or false' }
    }
    if (
      tls.minVersion !== undefined &&
      (typeof tls.minVersion !== 'string' || !TLS_VERSIONS.includes(tls.minVersion))
    ) {
      return { at: `${at}.tls.minVersion`, value: tls.minVersion, must: 'be "TLSv1.2" or "TLSv1.3"' }
    }
    if (secure) {
      for (const k of ['certFile', 'keyFile'] as const) {
        if (typeof tls[k] !== 'string' || tls[k] === '') {
          return { at: `${at}.tls.${k}`, value: tls[k], must: `be set for a ${l.type} listener (PEM file)` }
        }
      }
    } else if (Object.keys(tls).length > 0) {
      return {
        at: `${at}.tls`,
        value: tls,
        must: `be left out for a ${l.type} listener (use type tls or wss)`,
      }
    }
    if (tls.requireCertificate === true && (typeof tls.caFile !== 'string' || tls.caFile === '')) {
      return {
        at: `${at}.tls.caFile`,
        value: tls.caFile,
        must: 'be set when requireCertificate is true (the CA that signs client certificates)',
      }
    }
    if (tls.useIdentityAsUsername === true && tls.requireCertificate !== true) {
      return {
        at: `${at}.tls.useIdentityAsUsername`,
        value: true,
        must: 'go with requireCertificate: true (the identity comes from the client certificate)',
      }
    }
    const address = `${typeof l.host === 'string' ? l.host : '(mqtt.host)'}:${String(l.port)}`
    const other = seen.get(address)
    if (other !== undefined && l.port !== 0) {
      return {
        at: `${at}.port`,
        value: l.port,
        must: `differ from listeners[${other}] on the same address ${address}`,
      }
    }
    seen.set(address, i)
  }
  return true
}

/** The one place listener defaults live: host from mqtt.host, path /mqtt, TLS 1.2 minimum. */
export function normalizeListeners(
  listeners: readonly Record<string, unknown>[],
  defaultHost: string,
): ListenerConfig[] {
  return listeners.map((l) => {
    const tls = (l.tls ?? {}) as Record<string, unknown>
    return {
      type: l.type as ListenerConfig['type'],
      host: (l.host as string | undefined) ?? defaultHost,
      port: l.port as number,
      path: (l.path as string | undefined) ?? '/mqtt',
      allowAnonymous: (l.allowAnonymous as boolean | null | undefined) ?? null,
      maxConnections: (l.maxConnections as number | undefined) ?? 0,
      tls: {
        certFile: (tls.certFile as string | undefined) ?? '',
        keyFile: (tls.keyFile as string | undefined) ?? '',
        caFile: (tls.caFile as string | undefined) ?? '',
        requireCertificate: (tls.requireCertificate as boolean | undefined) ?? false,
        useIdentityAsUsername: (tls.useIdentityAsUsername as boolean | undefined) ?? false,
        minVersion: (tls.minVersion as ListenerConfig['tls']['minVersion'] | undefined) ?? 'TLSv1.2',
      },
    }
  })
}

/** The listeners to open: the configured ones, or with none one TCP listener on mqtt.host:mqtt.port. */
export function effectiveListeners(config: EdgebridgeConfig): ListenerConfig[] {
  if (config.listeners.length > 0) return config.listeners
  return normalizeListeners(
    [{ type: 'tcp', port: config.mqtt.port, allowAnonymous: config.mqtt.allowAnonymous }],
    config.mqtt.host,
  )
}

export const listenersSection: Section = {
  listeners: leaf({
    doc: 'MQTT listeners: `{ type: tcp|tls|ws|wss, port, host? (default mqtt.host), path? (ws/wss, default /mqtt), allowAnonymous? (null = refused once security.passwordFile is set or a listener requires client certificates, else allowed on loopback only), maxConnections? (0 = no cap), tls?: { certFile, keyFile, caFile?, requireCertificate?, useIdentityAsUsername?, minVersion? (TLSv1.2) } }`. Empty = one tcp listener on mqtt.host:mqtt.port. JSON in env.',
    format: f.structuredList('eb-listeners', 'a list of listeners ({ type, port, ... })', listenersProblem),
    default: [],
    defaultDoc: '[] (one tcp listener on mqtt.host:mqtt.port)',
  }),
}
