/**
 * The route table: which core name (Kafka topic, NATS subject, Redis channel or stream key), key and
 * codec an MQTT PUBLISH goes to. Routes are an ordered list and the first match wins; with no routes
 * configured, one default route per backend applies (DESIGN.md, "Routing defaults"):
 *
 * - redis, redis-streams: `redis.prefix` + topic
 * - nats, jetstream: `nats.subjectPrefix` + '.' + the topic as a NATS subject (nats-server's MQTT mapping)
 * - kafka: `kafka.topic`, key = client id (one device lands on one partition, so its order holds)
 *
 * Prefixes apply to every target, default or configured. For NATS, each value substituted into a
 * template is escaped into subject tokens ('/' -> '.', '.' -> '//'). A result the core cannot carry
 * (a topic with a space for NATS, a Kafka topic name with characters Kafka refuses) is no route:
 * `route()` returns undefined and the caller refuses the message.
 *
 * Everything is compiled once in createRouter; route() runs per message.
 */
import type { EdgebridgeConfig, RouteConfig } from '../config/types.js'
import type { Codec } from '../record.js'
import { compileTemplate, type CompiledTemplate } from './template.js'
import { compileTopicFilter, type CompiledFilter } from './topic-filter.js'
import {
  escapeForNatsSubject,
  isValidPublishSubject,
  mqttTopicToNatsSubject,
  NatsSubjectError,
} from './nats-subject.js'

export interface RouteInput {
  topic: string
  clientId: string
  username?: string
}

export interface RouteResult {
  target: string
  key?: string
  codec: Codec
}

export interface Router {
  route(input: RouteInput): RouteResult | undefined
}

interface CompiledRoute {
  filter: CompiledFilter
  target: CompiledTemplate
  key: CompiledTemplate | undefined
  codec: Codec
}

/** Routes used when `config.routes` is empty, for the configured backend. */
export function defaultRoutes(config: EdgebridgeConfig): RouteConfig[] {
  switch (config.core.backend) {
    case 'kafka':
      return [{ match: '#', target: config.kafka.topic, key: '{clientId}', codec: 'raw' }]
    case 'redis':
    case 'redis-streams':
    case 'nats':
    case 'jetstream':
      return [{ match: '#', target: '{topic}', codec: 'raw' }]
  }
}

// Kafka topic names: at most 249 characters of [a-zA-Z0-9._-] (kafka.common.internals.Topic).
const KAFKA_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/

export function createRouter(config: EdgebridgeConfig): Router {
  const backend = config.core.backend
  const configured = config.routes.length > 0 ? config.routes : defaultRoutes(config)
  const routes: CompiledRoute[] = configured.map((r) => {
    const filter = compileTopicFilter(r.match)
    return {
      filter,
      target: compileTemplate(r.target, filter.wildcards),
      // Kafka keys default to the client id so each device's records stay on one partition, in order.
      key:
        r.key !== undefined
          ? compileTemplate(r.key, filter.wildcards)
          : backend === 'kafka'
            ? compileTemplate('{clientId}')
            : undefined,
      codec: r.codec ?? 'raw',
    }
  })

  const isNats = backend === 'nats' || backend === 'jetstream'
  const prefix = isNats
    ? config.nats.subjectPrefix === ''
      ? ''
      : `${config.nats.subjectPrefix}.`
    : backend === 'kafka'
      ? ''
      : config.redis.prefix

  // A single default route of '{topic}' is by far the common case: skip template work for it.
  const natsTopicOnly = isNats && routes.length === 1 && routes[0]?.target.source === '{topic}'

  return {
    route(input) {
      const levels = input.topic.split('/')
      for (const r of routes) {
        const captures = r.filter.matchLevels(levels)
        if (captures === undefined) continue
        const ctx = { topic: input.topic, captures, clientId: input.clientId, username: input.username ?? '' }
        let target: string
        if (isNats) {
          try {
            target =
              prefix +
              (natsTopicOnly
                ? mqttTopicToNatsSubject(input.topic)
                : r.target.render(ctx, escapeForNatsSubject))
          } catch (err) {
            if (err instanceof NatsSubjectError) return undefined
            throw err
          }
          if (!isValidPublishSubject(target)) return undefined
        } else {
          target = prefix + r.target.render(ctx)
          if (backend === 'kafka' && !KAFKA_TOPIC.test(target)) return undefined
        }
        const result: RouteResult = { target, codec: r.codec }
        if (r.key !== undefined) result.key = r.key.render(ctx)
        return result
      }
      return undefined
    },
  }
}
