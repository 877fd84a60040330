/**
 * The route table: which core name (Kafka topic, NATS subject, Redis channel or stream key), key and
 * codec an MQTT PUBLISH goes to. Routes are an ordered list and the first match wins; with no routes
 * configured, the backend's default route applies (DESIGN.md, "Routing defaults").
 *
 * What depends on the core comes from its descriptor (backends/<name>/descriptor.ts): the default
 * route and key, the prefix that applies to every target, how a substituted value is escaped into
 * the core's naming (NATS: '/' -> '.', '.' -> '//'), and which names the core can carry. A result the
 * core cannot carry (a topic with a space for NATS, a Kafka topic name with characters Kafka refuses)
 * is no route: `route()` returns undefined and the caller refuses the message.
 *
 * Everything is compiled once in createRouter; route() runs per message.
 */
import { descriptorOf } from '../backends/registry.js'
import { TargetNameError } from '../backends/descriptor.js'
import type { EdgebridgeConfig } from '../config/types.js'
import type { Codec } from '../record.js'
import { compileTemplate, type CompiledTemplate } from './template.js'
import { compileTopicFilter, type CompiledFilter } from './topic-filter.js'

export interface RouteInput {
  topic: string
  clientId: string
  username?: string
}

export interface RouteResult {
  /** The route's `name`, `route-<index>` when it has none, `default` for the backend's default route. */
  name: string
  target: string
  key?: string
  codec: Codec
}

export interface Router {
  route(input: RouteInput): RouteResult | undefined
}

interface CompiledRoute {
  name: string
  filter: CompiledFilter
  target: CompiledTemplate
  key: CompiledTemplate | undefined
  codec: Codec
}

export function createRouter(config: EdgebridgeConfig): Router {
  const backend = descriptorOf(config.core.backend)
  const configured = config.routes.length > 0 ? config.routes : [backend.defaultRoute(config)]
  const routes: CompiledRoute[] = configured.map((r, i) => {
    const filter = compileTopicFilter(r.match)
    const key = r.key ?? backend.defaultKey
    return {
      name: r.name ?? (config.routes.length > 0 ? `route-${i}` : 'default'),
      filter,
      target: compileTemplate(r.target, filter.wildcards),
      key: key === undefined ? undefined : compileTemplate(key, filter.wildcards),
      codec: r.codec ?? 'raw',
    }
  })
  const prefix = backend.targetPrefix(config)
  const escape = backend.escape

  return {
    route(input) {
      const levels = input.topic.split('/')
      for (const r of routes) {
        const captures = r.filter.matchLevels(levels)
        if (captures === undefined) continue
        const ctx = { topic: input.topic, captures, clientId: input.clientId, username: input.username ?? '' }
        let target: string
        try {
          target = prefix + r.target.render(ctx, escape)
        } catch (err) {
          if (err instanceof TargetNameError) return undefined
          throw err
        }
        if (backend.targetProblem(target) !== undefined) return undefined
        const result: RouteResult = { name: r.name, target, codec: r.codec }
        if (r.key !== undefined) result.key = r.key.render(ctx)
        return result
      }
      return undefined
    },
  }
}
