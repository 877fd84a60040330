/**
 * The downlink: commands from the core to devices (DESIGN.md, "downlink"), the way a NATS leaf node
 * imports subjects. It subscribes through the backend to every rule's source and publishes each message
 * to the devices subscribed to the rule's topic (ingress.publishToDevices).
 *
 * - Delivery to devices goes through aedes' own publish, which never passes the ingress' publish gate:
 *   a command is never spooled and never forwarded back to the core (no loop). Messages this gateway
 *   forwarded itself are not imported back either (own-echo.ts).
 * - QoS 1/2 toward a subscribed device is aedes' business, including the offline queue of a persistent
 *   session [MQTT-3.1.2-5]. `onMessage` resolves once aedes took the message; backends with
 *   acknowledgements (Kafka, Redis Streams) acknowledge only then (at-least-once toward devices).
 * - Nothing here stops the uplink: a source that cannot be subscribed is logged and retried by the
 *   backend; a message that cannot be delivered is logged and counted (`downlink.failed`).
 * - A message whose rendered topic is not a valid topic name can never be delivered: it is counted as
 *   failed and acknowledged, so it cannot block the messages behind it. A message that could not be
 *   handed to the broker (shutting down) is rejected, so an acknowledging backend delivers it again.
 */
import type { Backend, DownlinkMessage, Subscription } from '../backends/backend.js'
import { descriptorOf } from '../backends/registry.js'
import type { EdgebridgeConfig } from '../config/types.js'
import { ConfigError, errorMessage } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import { topicNameProblem } from '../routing/topic-filter.js'
import { compileDownlinkRules, type DownlinkRule } from './downlink-rules.js'
import { isOwnEcho } from './own-echo.js'

/** Publishes to the devices subscribed to `topic`: Ingress.publishToDevices. */
export type DeliverToDevices = (
  topic: string,
  payload: Buffer,
  qos: 0 | 1 | 2,
  retain: boolean,
) => Promise<void>

export interface DownlinkCounters {
  /** Messages read from the core's sources (`downlink.received`). */
  received: number
  /** Handed to the broker for the subscribed devices (`downlink.delivered`). */
  delivered: number
  /** Not delivered: no valid topic, or the broker refused (`downlink.failed`). */
  failed: number
  /** This gateway's own uplink messages, not imported back. */
  ownEchoes: number
}

export interface DownlinkOptions {
  config: EdgebridgeConfig
  backend: Backend
  deliver: DeliverToDevices
  logger: Logger
}

export class Downlink {
  readonly counters: DownlinkCounters = { received: 0, delivered: 0, failed: 0, ownEchoes: 0 }
  private rules = new Map<string, DownlinkRule>()
  private subscription: Subscription | undefined
  private closing: Promise<void> | undefined
  /** The configuration whose rules are in force (reload() replaces it). */
  private config: EdgebridgeConfig

  constructor(private readonly options: DownlinkOptions) {
    this.config = options.config
  }

  /** Subscribes to every rule's source; a no-op when disabled or without rules. Never rejects for the core. */
  async start(): Promise<void> {
    const { backend, logger } = this.options
    const config = this.config
    if (!config.downlink.enabled) return
    this.rules = new Map(compileDownlinkRules(config).map((r) => [r.source.source, r]))
    if (this.rules.size === 0) return
    if (backend.subscribe === undefined) {
      throw new ConfigError(`downlink.enabled: the ${backend.name} backend cannot subscribe`)
    }
    const sources = [...this.rules.keys()]
    const groupId = config.core.groupId
    try {
      const subscription = await backend.subscribe(sources, (m) => this.onMessage(m), groupId)
      if (this.closing !== undefined) {
        await subscription.close() // closed while subscribing
        return
      }
      this.subscription = subscription
      logger.info({ sources, groupId }, 'downlink subscribed')
    } catch (err) {
      if (err instanceof ConfigError) throw err
      // The uplink works without the downlink: say so once, keep forwarding.
      logger.error(
        { err: errorMessage(err), sources },
        'downlink could not subscribe; commands will not reach devices',
      )
    }
  }

  /**
   * SIGHUP: the rules of `config` (already validated) replace the current ones. Same sources: the
   * rules are swapped in place, the subscription stays. Other sources: the old subscription is closed
   * and the new sources subscribed (acknowledging cores resume from their group's position).
   */
  async reload(config: EdgebridgeConfig): Promise<void> {
    if (this.closing !== undefined) return
    const before = [...this.rules.keys()].sort().join('\n')
    const rules = config.downlink.enabled ? compileDownlinkRules(config) : []
    const after = rules
      .map((r) => r.source.source)
      .sort()
      .join('\n')
    this.config = config
    if (before === after) {
      this.rules = new Map(rules.map((r) => [r.source.source, r]))
      return
    }
    const old = this.subscription
    this.subscription = undefined
    this.rules = new Map()
    await old?.close()
    await this.start()
  }

  private async onMessage(message: DownlinkMessage): Promise<void> {
    const { deliver, logger } = this.options
    const config = this.config
    this.counters.received++
    if (isOwnEcho(message, config.gatewayId)) {
      this.counters.ownEchoes++
      return
    }
    const rule = this.rules.get(message.source)
    const captures = rule?.source.match(message.subject)
    if (rule === undefined || captures === undefined) {
      this.fail(message, 'no downlink rule matches')
      return
    }
    const topic = rule.topic.render({
      topic: descriptorOf(config.core.backend).mqttTopic(message, config),
      captures,
      key: message.key ?? '',
    })
    const problem = topicNameProblem(topic)
    if (problem !== undefined) {
      this.fail(message, `topic ${JSON.stringify(topic)} ${problem}`)
      return
    }
    try {
      await deliver(topic, message.payload, rule.qos, rule.retain)
    } catch (err) {
      this.counters.failed++
      logger.warn(
        { err: errorMessage(err), subject: message.subject, topic },
        'downlink delivery to devices failed',
      )
      throw err
    }
    this.counters.delivered++
    logger.debug({ subject: message.subject, topic, bytes: message.payload.length }, 'downlink delivered')
  }

  private fail(message: DownlinkMessage, why: string): void {
    this.counters.failed++
    this.options.logger.warn(
      { source: message.source, subject: message.subject },
      `downlink message dropped: ${why}`,
    )
  }

  /** Unsubscribes; an onMessage in flight finishes first. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const subscription = this.subscription
      this.subscription = undefined
      await subscription?.close()
    })()
    return this.closing
  }
}
