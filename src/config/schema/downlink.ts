/**
 * downlink.*: the import rules, checked here once, at load, so the downlink trusts what it is given.
 *
 * - shape (the schema's format, before the backend is known): known keys, types, template syntax, a
 *   static topic that is a valid topic name;
 * - against the backend (downlinkProblems, with the other cross-key rules): the source in the core's
 *   syntax, template captures the source can fill, one rule per source.
 */
import { descriptorOf } from '../../backends/registry.js'
import type { EdgebridgeConfig } from '../types.js'
import { isStaticTemplate, topicTemplateProblem } from '../../downlink/topic-template.js'
import { topicNameProblem } from '../../routing/topic-filter.js'
import * as f from '../formats.js'
import { problemLine, type Problem } from '../problem.js'
import { leaf, type Section } from './leaf.js'
import { ruleListShapeProblem, ruleSourceProblems } from './rule-sources.js'

const RULE_KEYS = new Set(['source', 'topic', 'qos', 'retain'])
const RULE_SHAPE = '{ source, topic?, qos?, retain? }'

/** The schema's check of `downlink.rules`, before the backend is known. */
export function rulesShapeProblem(value: unknown): true | Problem | string {
  return ruleListShapeProblem(value, 'downlink rules', RULE_KEYS, RULE_SHAPE, (r, at) => {
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
    return undefined
  })
}

/** Problems of the rules against the configured backend, one line each; none while the downlink is off. */
export function downlinkProblems(config: EdgebridgeConfig): string[] {
  if (!config.downlink.enabled) return []
  const backend = descriptorOf(config.core.backend)
  return ruleSourceProblems('downlink', config.downlink.rules, backend, (rule, at) => {
    if (rule.topic === undefined) return []
    const captures = backend.compileSource(rule.source).captures
    const tp = topicTemplateProblem(rule.topic, captures)
    return tp === undefined ? [] : [problemLine(`${at}.topic`, rule.topic, `be a valid template: ${tp}`)]
  })
}

export const downlinkSection: Section = {
  enabled: leaf({
    doc: 'Deliver messages from the core to devices (commands), following downlink.rules.',
    format: f.bool,
    default: false,
  }),
  rules: leaf({
    doc: "Import rules, one per source: `{ source, topic?, qos? (1), retain? (false) }`. `source` is in the core's naming: a NATS subject (`*`, `>` wildcards), a Redis PSUBSCRIBE pattern (`redis`) or stream key (`redis-streams`), a Kafka topic. `topic` is the MQTT topic template: `{topic}` (default: the reverse of the uplink mapping, see README), `{1}`, `{2}`... (the source's wildcards), `{key}` (Kafka record key). core.groupId is the NATS queue group and the Kafka/Redis Streams consumer group. JSON in env.",
    format: f.structuredList(
      'eb-downlink-rules',
      'a list of downlink rules ({ source, topic?, qos?, retain? })',
      rulesShapeProblem,
    ),
    default: [],
  }),
}
