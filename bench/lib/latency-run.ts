/**
 * One open-loop latency measurement of one variant, in one configuration:
 *
 * - `edgebridge`: bench devices -> MQTT -> edgebridge (own process) -> core -> consumer on the core
 * - `direct`: the backend's own client -> core -> consumer (reference a: the core alone)
 * - `aedes`: bench devices -> MQTT -> plain aedes (own process), arrival at the PUBACK for QoS 1 and
 *   at an MQTT subscriber for QoS 0 (reference b: MQTT ingress alone)
 * - `nats-mqtt`: bench devices -> MQTT -> nats-server's own MQTT support -> NATS consumer on it
 *   (NATS backends only: the native reference)
 *
 * Latency always runs from a message's scheduled send time to its arrival at the consumer.
 */
import type { SpoolConfig } from '../../src/config/types.js'
import { createDirectPublisher } from './direct-publisher.js'
import { startCoreConsumer } from './core-consumer.js'
import { runName, type CoreEndpoint } from './core-endpoint.js'
import { benchDaemonConfig, removeBenchDataDir } from './daemon-config.js'
import { DeliveryTracker, type DeliveryCounts } from './delivery-tracker.js'
import type { LatencyHistogram, LatencySummary } from './histogram.js'
import { MqttDevices, mqttSubscriber } from './mqtt-devices.js'
import { NATS_MQTT_SUBJECT, startNatsMqttServer } from './nats-mqtt-server.js'
import { runOpenLoop, totalMessages } from './open-loop.js'
import { encodePayload } from './payload.js'
import type { Progress } from './progress.js'
import { startSut, type Sut } from './sut.js'

export type Variant = 'edgebridge' | 'direct' | 'aedes' | 'nats-mqtt'

export interface LatencyConfig {
  name: string
  payloadBytes: number
  ratePerSecond: number
  connections: number
}

/** The five configurations of "Benchmarking Message Queue Latency". */
export const STANDARD_CONFIGS: LatencyConfig[] = [
  { name: '256B-3k', payloadBytes: 256, ratePerSecond: 3000, connections: 1 },
  { name: '1KB-3k', payloadBytes: 1024, ratePerSecond: 3000, connections: 1 },
  { name: '5KB-2k', payloadBytes: 5 * 1024, ratePerSecond: 2000, connections: 1 },
  { name: '1KB-20k-25conn', payloadBytes: 1024, ratePerSecond: 20000, connections: 25 },
  { name: '1MB-100', payloadBytes: 1024 * 1024, ratePerSecond: 100, connections: 1 },
]

export interface LatencyRunOptions {
  endpoint: CoreEndpoint
  variant: Variant
  config: LatencyConfig
  qos: 0 | 1
  durationMs: number
  /** How long to wait after the last arrival before counting the rest as lost. */
  graceMs: number
  progress?: Progress
  /** edgebridge only: the spool it runs with (default: the memory spool). */
  spool?: Partial<SpoolConfig>
  /**
   * edgebridge only: called once the gateway runs, before the devices connect (a paused status-page
   * reader, for instance); what it returns is called at the end, before the gateway stops.
   */
  beside?: (sut: Sut) => Promise<() => Promise<void>>
}

export interface LatencyRunResult {
  variant: Variant
  config: LatencyConfig
  qos: 0 | 1
  durationMs: number
  counts: DeliveryCounts
  publishErrors: number
  /** QoS 1 acknowledgements received by the devices (PUBACK) or the direct client (core ack). */
  acked: number
  latency: LatencySummary
  /** PUBACK latency from the scheduled send time (QoS 1 MQTT variants only). */
  ackLatency: LatencySummary | undefined
  /** Messages that arrived at the consumer per second of the run. */
  deliveredPerSecond: number
  maxSchedulerLagMs: number
  histogram: LatencyHistogram
}

export async function runLatencyVariant(options: LatencyRunOptions): Promise<LatencyRunResult> {
  const { endpoint, variant, config, qos } = options
  const total = totalMessages(config.ratePerSecond, options.durationMs)
  const tracker = new DeliveryTracker(total)
  const target = runName('ebbench')
  const closers: (() => Promise<void>)[] = []
  const label = `${variant} ${config.name} qos${qos}`
  try {
    let issue: (from: number, to: number, scheduledMs: (seq: number) => number) => void
    let acked = (): number => 0
    let publishErrors = (): number => 0
    let devices: MqttDevices | undefined
    if (variant === 'direct') {
      const consumer = await startCoreConsumer(endpoint, target, (p) => tracker.onPayload(p))
      closers.push(() => consumer.close())
      const publisher = await createDirectPublisher(endpoint, target)
      closers.unshift(() => publisher.close())
      let ackCount = 0
      issue = (from, to, at) => {
        const batch: Buffer[] = []
        for (let i = from; i < to; i++) batch.push(encodePayload(config.payloadBytes, i, at(i)))
        publisher.publish(batch, (n) => (ackCount += n))
      }
      acked = () => ackCount
      publishErrors = () => publisher.errors()
    } else {
      let sut: Sut | { port: number }
      if (variant === 'nats-mqtt') {
        const reference = await startNatsMqttServer()
        closers.push(() => reference.stop())
        const consumer = await startCoreConsumer(
          { ...endpoint, backend: 'nats', natsServers: [reference.natsUrl] },
          NATS_MQTT_SUBJECT,
          (p) => tracker.onPayload(p),
        )
        closers.unshift(() => consumer.close())
        sut = { port: reference.mqttPort }
      } else if (variant === 'edgebridge') {
        const consumer = await startCoreConsumer(endpoint, target, (p) => tracker.onPayload(p))
        closers.push(() => consumer.close())
        const daemonConfig = benchDaemonConfig({
          endpoint,
          target,
          spool: options.spool,
          maxPacketBytes: config.payloadBytes + 4096,
        })
        closers.push(async () => removeBenchDataDir(daemonConfig))
        const edge = await startSut({ kind: 'edgebridge', config: daemonConfig })
        sut = edge
        closers.unshift(() => edge.stop())
        if (options.beside !== undefined) closers.unshift(await options.beside(edge))
      } else {
        const aedes = await startSut({ kind: 'aedes' })
        sut = aedes
        closers.unshift(() => aedes.stop())
        // QoS 1: the PUBACK is where MQTT ingress alone ends (set below). QoS 0 has no
        // acknowledgement, so arrival is measured at a QoS 0 subscriber on the same broker.
        if (qos === 0) {
          const sub = await mqttSubscriber(sut.port, 0, (p) => tracker.onPayload(p))
          closers.unshift(() => sub.close())
        }
      }
      const d = await MqttDevices.connect({
        port: sut.port,
        connections: config.connections,
        qos,
        clientIdPrefix: `bench-${variant}-${process.pid}`,
      })
      devices = d
      closers.unshift(() => d.close())
      if (variant === 'aedes' && qos === 1) d.onAck = (payload) => tracker.onPayload(payload)
      issue = (from, to, at) => {
        for (let i = from; i < to; i++) d.publish(encodePayload(config.payloadBytes, i, at(i)), at(i))
      }
      acked = () => d.acked
      publishErrors = () => d.errors
    }

    options.progress?.phase(label, total)
    const loop = await runOpenLoop({
      ratePerSecond: config.ratePerSecond,
      durationMs: options.durationMs,
      issue,
      onProgress: (n) => options.progress?.update(Math.min(n, tracker.receivedCount)),
    })
    await tracker.waitForAll(options.graceMs)
    options.progress?.update(tracker.receivedCount)
    options.progress?.stop()
    const deliveredPerSecond =
      tracker.receivedCount / (Math.max(tracker.lastArrival - loop.startedAt, options.durationMs) / 1000)
    return {
      variant,
      config,
      qos,
      durationMs: options.durationMs,
      counts: tracker.counts(),
      publishErrors: publishErrors(),
      acked: acked(),
      latency: tracker.histogram.summary(),
      ackLatency: devices !== undefined && qos === 1 ? devices.ackHistogram.summary() : undefined,
      deliveredPerSecond,
      maxSchedulerLagMs: loop.maxSchedulerLagMs,
      histogram: tracker.histogram,
    }
  } finally {
    options.progress?.stop()
    for (const close of closers) await close().catch(() => undefined)
  }
}
