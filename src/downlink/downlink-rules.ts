/**
 * Downlink import rules, compiled: which names of the core are delivered to devices, on which MQTT
 * topic, with which QoS and retain flag. The rules were checked when the configuration loaded
 * (config/schema/downlink.ts), so compiling trusts them.
 *
 * Defaults: `topic` = `{topic}` (the backend descriptor's mqttTopic), `qos` = 1 (a command should reach a device that
 * subscribed with QoS 1, and aedes queues it for an offline persistent session), `retain` = false (a
 * retained command would be replayed to every device that subscribes later).
 */
import type { BackendDescriptor, SourcePattern } from '../backends/descriptor.js'
import { descriptorOf } from '../backends/registry.js'
import type { DownlinkRuleConfig, EdgebridgeConfig } from '../config/types.js'
import { compileTopicTemplate, type CompiledTopicTemplate } from './topic-template.js'

export interface DownlinkRule {
  readonly source: SourcePattern
  readonly topic: CompiledTopicTemplate
  readonly qos: 0 | 1 | 2
  readonly retain: boolean
}

export const DEFAULT_TOPIC_TEMPLATE = '{topic}'
export const DEFAULT_QOS = 1

/** The rules of a loaded configuration, compiled for its backend. */
export function compileDownlinkRules(config: EdgebridgeConfig): DownlinkRule[] {
  const backend = descriptorOf(config.core.backend)
  return config.downlink.rules.map((rule) => compileRule(backend, rule))
}

function compileRule(backend: BackendDescriptor, rule: DownlinkRuleConfig): DownlinkRule {
  const source = backend.compileSource(rule.source)
  return {
    source,
    topic: compileTopicTemplate(rule.topic ?? DEFAULT_TOPIC_TEMPLATE, source.captures),
    qos: rule.qos ?? DEFAULT_QOS,
    retain: rule.retain ?? false,
  }
}
