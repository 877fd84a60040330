/**
 * requests.*: request/reply between the core and devices (src/requests/). The rules' shape is checked
 * here, before the backend is known; against the backend (the source in the core's syntax, captures the
 * source can fill, one rule per source) in requestProblems, with the other cross-key rules.
 */
import { descriptorOf } from '../../backends/registry.js'
import type { EdgebridgeConfig } from '../types.js'
import { compileRequestRule } from '../../requests/request-rules.js'
import {
  compileAnswerTopic,
  compileFieldTemplate,
  compileRequestTopic,
} from '../../requests/request-templates.js'
import * as f from '../formats.js'
import { problemLine, type Problem } from '../problem.js'
import { leaf, type Section } from './leaf.js'
import { ruleListShapeProblem, ruleSourceProblems } from './rule-sources.js'

const RULE_KEYS = new Set(['source', 'device', 'method', 'topic', 'answerTopic', 'timeoutMs', 'qos'])
const RULE_SHAPE = '{ source, device?, method?, topic?, answerTopic?, timeoutMs?, qos? }'

const templateChecks: Record<string, (t: string) => unknown> = {
  device: (t) => compileFieldTemplate(t),
  method: (t) => compileFieldTemplate(t),
  topic: compileRequestTopic,
  answerTopic: compileAnswerTopic,
}

/** The schema's check of `requests.rules`, before the backend is known. */
export function requestRulesShapeProblem(value: unknown): true | Problem | string {
  return ruleListShapeProblem(value, 'request rules', RULE_KEYS, RULE_SHAPE, (r, at) => {
    for (const [key, compile] of Object.entries(templateChecks)) {
      const t = r[key]
      if (t === undefined) continue
      if (typeof t !== 'string' || t === '')
        return { at: `${at}.${key}`, value: t, must: 'be a non-empty template' }
      try {
        compile(t)
      } catch (err) {
        return { at: `${at}.${key}`, value: t, must: `be a valid template: ${(err as Error).message}` }
      }
    }
    if (r.timeoutMs !== undefined && !(Number.isSafeInteger(r.timeoutMs) && (r.timeoutMs as number) >= 1))
      return { at: `${at}.timeoutMs`, value: r.timeoutMs, must: 'be a duration in milliseconds, 1 or more' }
    if (r.qos !== undefined && r.qos !== 0 && r.qos !== 1 && r.qos !== 2)
      return { at: `${at}.qos`, value: r.qos, must: 'be 0, 1 or 2' }
    return undefined
  })
}

/** Problems of the rules against the configured backend, one line each; none while requests are off. */
export function requestProblems(config: EdgebridgeConfig): string[] {
  if (!config.requests.enabled) return []
  return ruleSourceProblems(
    'requests',
    config.requests.rules,
    descriptorOf(config.core.backend),
    (rule, at) => {
      try {
        compileRequestRule(config, rule)
        return []
      } catch (err) {
        return [problemLine(at, rule, `be valid for its source: ${(err as Error).message}`)]
      }
    },
  )
}

export const requestsSection: Section = {
  enabled: leaf({
    doc: 'Carry requests from the core to devices and their answers back, following requests.rules (README, "Request/reply").',
    format: f.bool,
    default: false,
  }),
  rules: leaf({
    doc: "Request rules, one per source: `{ source, device?, method?, topic?, answerTopic?, timeoutMs?, qos? (1) }`. `source` is in the core's naming (as downlink sources): a NATS subject (`edgebridge.req.*.*`), a Redis PSUBSCRIBE pattern (`redis`) or request stream key (`redis-streams`), a Kafka request topic. `device`/`method`: `{1}`, `{2}`... (source wildcards), `{key}` (Kafka key), `{device}`/`{method}` (header or stream field); defaults `{1}`/`{2}` for NATS and Redis, `{key}`/`{method}` for Kafka, `{device}`/`{method}` for Redis Streams. `topic` (default `edgebridge/{device}/req/{method}/{id}`) is where the device gets the request; `answerTopic` (default `edgebridge/{device}/res/{status}/{id}`, each placeholder a whole level) is where it answers. `timeoutMs` defaults to requests.timeoutMs. JSON in env.",
    format: f.structuredList(
      'eb-request-rules',
      `a list of request rules (${RULE_SHAPE})`,
      requestRulesShapeProblem,
    ),
    default: [],
  }),
  timeoutMs: leaf({
    doc: "How long a requester waits for the device's answer, in milliseconds, before it gets a 504 answer (a rule's timeoutMs overrides it).",
    format: f.positiveInt,
    default: 10_000,
  }),
  maxInFlight: leaf({
    doc: 'Requests waiting for a device answer at once, over all devices; one more gets an immediate 429 answer.',
    format: f.positiveInt,
    default: 1000,
  }),
  maxInFlightPerDevice: leaf({
    doc: 'Requests waiting for one device at once; one more gets an immediate 429 answer.',
    format: f.positiveInt,
    default: 16,
  }),
}
