/**
 * Request rules, compiled: which names of the core carry requests for devices, how the device id and
 * method are read from a request, where the request goes on the MQTT side and where the device answers.
 * The rules were checked when the configuration loaded (config/schema/requests.ts).
 *
 * Where `device` / `method` are read when a rule does not say is the backend's (its descriptor's
 * `requestFields`): NATS and Redis pub/sub from the source's wildcards (`{1}`, `{2}`:
 * `edgebridge.req.*.*`); Kafka from the record key and the `method` header; Redis Streams from the
 * entry's `device` and `method` fields.
 */
import type { EdgebridgeConfig, RequestRuleConfig } from '../config/types.js'
import type { SourcePattern } from '../backends/descriptor.js'
import { descriptorOf } from '../backends/registry.js'
import {
  DEFAULT_ANSWER_TOPIC,
  DEFAULT_REQUEST_TOPIC,
  compileAnswerTopic,
  compileFieldTemplate,
  compileRequestTopic,
  type AnswerTopicPattern,
  type FieldTemplate,
  type RequestTopicTemplate,
} from './request-templates.js'

export interface RequestRule {
  readonly source: SourcePattern
  readonly device: FieldTemplate
  readonly method: FieldTemplate
  readonly topic: RequestTopicTemplate
  readonly answer: AnswerTopicPattern
  /** How long the requester waits for the device's answer before a timeout answer. */
  readonly timeoutMs: number
  /** QoS of the request toward the device: 1 by default, so an offline persistent session queues it. */
  readonly qos: 0 | 1 | 2
}

export const DEFAULT_REQUEST_QOS = 1

export function compileRequestRules(config: EdgebridgeConfig): RequestRule[] {
  return config.requests.rules.map((rule) => compileRequestRule(config, rule))
}

/** Throws TypeError with the reason. */
export function compileRequestRule(config: EdgebridgeConfig, rule: RequestRuleConfig): RequestRule {
  const descriptor = descriptorOf(config.core.backend)
  const source = descriptor.compileSource(rule.source)
  const defaults = descriptor.requestFields
  return {
    source,
    device: compileFieldTemplate(rule.device ?? defaults.device, source.captures),
    method: compileFieldTemplate(rule.method ?? defaults.method, source.captures),
    topic: compileRequestTopic(rule.topic ?? DEFAULT_REQUEST_TOPIC),
    answer: compileAnswerTopic(rule.answerTopic ?? DEFAULT_ANSWER_TOPIC),
    timeoutMs: rule.timeoutMs ?? config.requests.timeoutMs,
    qos: rule.qos ?? DEFAULT_REQUEST_QOS,
  }
}
