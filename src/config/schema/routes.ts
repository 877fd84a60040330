import { templateProblem } from '../../routing/template.js'
import { topicFilterProblem } from '../../routing/topic-filter.js'
import { descriptorOf } from '../../backends/registry.js'
import type { EdgebridgeConfig } from '../types.js'
import * as f from '../formats.js'
import { isObject, problemLine, type Problem } from '../problem.js'
import { leaf, type Section } from './leaf.js'

const CODECS = ['raw', 'json', 'msgpack', 'cloudevents']
const ROUTE_KEYS = new Set(['match', 'target', 'key', 'codec', 'name'])
/** A route name is a metric label value: short, and safe in any dashboard. */
const ROUTE_NAME = /^[A-Za-z0-9_.-]{1,64}$/

/** Check each route: known keys, a valid MQTT filter, templates whose placeholders the filter can fill. */
export function routesProblem(value: unknown): true | Problem | string {
  if (!Array.isArray(value)) return 'be a list of routes ({ match, target, key?, codec? })'
  for (let i = 0; i < value.length; i++) {
    const r: unknown = value[i]
    const at = `[${i}]`
    if (!isObject(r)) return { at, value: r, must: 'be an object { match, target, key?, codec? }' }
    for (const k of Object.keys(r)) {
      if (!ROUTE_KEYS.has(k))
        return {
          at: `${at}.${k}`,
          value: r[k],
          must: 'not be set: routes have match, target, key, codec and name',
        }
    }
    if (typeof r.match !== 'string')
      return { at: `${at}.match`, value: r.match, must: 'be an MQTT topic filter' }
    const fp = topicFilterProblem(r.match)
    if (fp !== undefined)
      return { at: `${at}.match`, value: r.match, must: `be a valid MQTT topic filter: ${fp}` }
    const wildcards = r.match.split('/').filter((l) => l === '+' || l === '#').length
    for (const field of ['target', 'key'] as const) {
      const t = r[field]
      if (t === undefined && field === 'key') continue
      if (typeof t !== 'string' || t === '') {
        return { at: `${at}.${field}`, value: t, must: 'be a non-empty template string' }
      }
      const tp = templateProblem(t, wildcards)
      if (tp !== undefined) return { at: `${at}.${field}`, value: t, must: `be a valid template: ${tp}` }
    }
    if (r.name !== undefined && (typeof r.name !== 'string' || !ROUTE_NAME.test(r.name))) {
      return { at: `${at}.name`, value: r.name, must: 'be 1-64 letters, digits, "_", "." or "-"' }
    }
    if (r.name !== undefined && value.slice(0, i).some((o) => isObject(o) && o.name === r.name)) {
      return { at: `${at}.name`, value: r.name, must: 'be unique among the routes' }
    }
    if (r.codec !== undefined && (typeof r.codec !== 'string' || !CODECS.includes(r.codec))) {
      return {
        at: `${at}.codec`,
        value: r.codec,
        must: `be one of ${CODECS.map((c) => JSON.stringify(c)).join(', ')}`,
      }
    }
  }
  return true
}

/**
 * The routes against the configured backend, one line each: a codec the backend cannot carry, and a
 * static target (no placeholder) that is not a name the core takes once its prefix is added.
 */
export function routesBackendProblems(config: EdgebridgeConfig): string[] {
  const backend = descriptorOf(config.core.backend)
  const prefix = backend.targetPrefix(config)
  const out: string[] = []
  config.routes.forEach((route, i) => {
    const at = `routes[${i}]`
    const codec = route.codec ?? 'raw'
    if (!backend.codecs.includes(codec)) {
      out.push(
        problemLine(
          `${at}.codec`,
          codec,
          `be ${backend.codecs.map((c) => JSON.stringify(c)).join(' or ')}: the ${backend.name} backend ${backend.codecsWhy} (core.backend is ${backend.name})`,
        ),
      )
    }
    if (!route.target.includes('{')) {
      const name = prefix + route.target
      const tp = backend.targetProblem(name)
      const prefixed = prefix === '' ? '' : `with the prefix: ${JSON.stringify(name)}; `
      if (tp !== undefined)
        out.push(
          problemLine(
            `${at}.target`,
            route.target,
            `${tp.replace(/^must /, '')} (${prefixed}core.backend is ${backend.name})`,
          ),
        )
    }
  })
  return out
}

export const routesSection: Section = {
  routes: leaf({
    doc: 'Ordered routes, first match wins: `{ match: <MQTT filter>, target: <template>, key?: <template>, codec?: raw|json|msgpack|cloudevents, name?: <label in metrics, default route-<index>> }`. Templates: `{topic}`, `{1}`, `{2}`... (wildcard segments), `{clientId}`, `{username}`. Empty = the default route of the backend. JSON in env.',
    format: f.structuredList(
      'eb-routes',
      'a list of routes ({ match, target, key?, codec?, name? })',
      routesProblem,
    ),
    default: [],
    defaultDoc: "[] (the backend's default route)",
  }),
}
