/**
 * Downlink import rules: which names of the core are delivered to devices, on which MQTT topic, with
 * which QoS and retain flag. Checked in two steps, both at config load:
 *
 * - shape (rulesShapeProblem, the schema's format): known keys, types, template syntax, a static topic
 *   that is a valid topic name; no other key needed;
 * - against the backend (downlinkProblems): the source in the core's syntax, template captures the
 *   source can fill, one rule per source.
 *
 * Defaults: `topic` = `{topic}` (default-topic.ts), `qos` = 1 (a command should reach a device that
 * subscribed with QoS 1, and aedes queues it for an offline persistent session), `retain` = false (a
 * retained command would be replayed to every device that subscribes later).
 */
import type { Problem } from '../config/formats.js'
import type { BackendName, DownlinkRuleConfig, EdgebridgeConfig } from '../config/types.js'
import { problemLine } from '../config/validate.js'
import { ConfigError } from '../errors.js'
import { topicNameProblem } from '../routing/topic-filter.js'
import { compileSource, sourceProblem, type SourcePattern } from './source-pattern.js'
import {
  compileTopicTemplate,
  isStaticTemplate,
  topicTemplateProblem,
  type CompiledTopicTemplate,
} from './topic-template.js'

export interface DownlinkRule {
  readonly source: SourcePattern
  readonly topic: CompiledTopicTemplate
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
}

export const DEFAULT_TOPIC_TEMPLATE = '{topic}'
export const DEFAULT_QOS = 1

const RULE_KEYS = new Set(['source', 'topic', 'qos', 'retain'])
const RULE_SHAPE = '{ source, topic?, qos?, retain? }'

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** The schema's check of `downlink.rules`, before the backend is known. */
export function rulesShapeProblem(value: unknown): true | Problem | string {
  if (!Array.isArray(value)) return `be a list of downlink rules (${RULE_SHAPE})`
  for (let i = 0; i < value.length; i++) {
    const r: unknown = value[i]
    const at = `[${i}]`
    if (!isObject(r)) return { at, value: r, must: `be an object ${RULE_SHAPE}` }
    for (const k of Object.keys(r)) {
      if (!RULE_KEYS.has(k))
        return { at: `${at}.${k}`, value: r[k], must: 'not be set: rules have source, topic, qos and retain' }
    }
    if (typeof r.source !== 'string' || r.source === '')
      return {
        at: `${at}.source`,
        value: r.source,
        must: 'be a non-empty name in the core: NATS subject, Redis channel pattern or stream key, Kafka topic',
      }
    if (r.topic !== undefined) {
      if (typeof r.topic !== 'string' || r.topic === '')
        return { at: `${at}.topic`, value: r.topic, must: 'be a non-empty MQTT topic template' }
      const tp = topicTemplateProblem(r.topic)
      if (tp !== undefined) return { at: `${at}.topic`, value: r.topic, must: `be a valid template: ${tp}` }
      if (isStaticTemplate(r.topic)) {
        const np = topicNameProblem(r.topic)
        if (np !== undefined)
          return { at: `${at}.topic`, value: r.topic, must: `be a valid topic name: it ${np}` }
      }
    }
    if (r.qos !== undefined && r.qos !== 0 && r.qos !== 1 && r.qos !== 2)
      return { at: `${at}.qos`, value: r.qos, must: 'be 0, 1 or 2' }
    if (r.retain !== undefined && typeof r.retain !== 'boolean')
      return { at: `${at}.retain`, value: r.retain, must: 'be true or false' }
  }
  return true
}

/** Problems of the rules against the configured backend, one line each; none while the downlink is off. */
export function downlinkProblems(config: EdgebridgeConfig): string[] {
  const out: string[] = []
  if (!config.downlink.enabled) return out
  const backend = config.core.backend
  const seen = new Map<string, number>()
  config.downlink.rules.forEach((rule, i) => {
    const at = `downlink.rules[${i}]`
    const sp = sourceProblem(backend, rule.source)
    if (sp !== undefined) {
      out.push(
        problemLine(`${at}.source`, rule.source, `${sp.replace(/^must /, '')} (core.backend is ${backend})`),
      )
      return
    }
    const other = seen.get(rule.source)
    if (other !== undefined) {
      out.push(
        problemLine(
          `${at}.source`,
          rule.source,
          `differ from downlink.rules[${other}].source (one rule per source)`,
        ),
      )
      return
    }
    seen.set(rule.source, i)
    if (rule.topic !== undefined) {
      const captures = compileSource(backend, rule.source).captures
      const tp = topicTemplateProblem(rule.topic, captures)
      if (tp !== undefined) out.push(problemLine(`${at}.topic`, rule.topic, `be a valid template: ${tp}`))
    }
  })
  return out
}

/** The rules, compiled for `backend`; throws ConfigError (as loadConfig would have) when one is invalid. */
export function compileDownlinkRules(config: EdgebridgeConfig): DownlinkRule[] {
  const problems = downlinkProblems(config)
  if (problems.length > 0) throw new ConfigError(problems.join('; '))
  return config.downlink.rules.map((rule) => compileRule(config.core.backend, rule))
}

function compileRule(backend: BackendName, rule: DownlinkRuleConfig): DownlinkRule {
  const source = compileSource(backend, rule.source)
  return {
    source,
    topic: compileTopicTemplate(rule.topic ?? DEFAULT_TOPIC_TEMPLATE, source.captures),
    qos: rule.qos ?? DEFAULT_QOS,
    retain: rule.retain ?? false,
  }
}
