/**
 * Closed-loop throughput: `devices` MQTT connections, each keeping `window` QoS 1 publishes in flight
 * (a new one leaves as soon as a PUBACK comes back), for `durationMs`. Variants:
 *
 * - `edgebridge`: delivered msg/s counted at a consumer on the core (plus acknowledged, lost, duplicates)
 * - `aedes`: a plain aedes broker acknowledging with a no-op handler: acknowledged msg/s (reference A)
 * - `direct`: the backend's client sending batches of devices x window records and awaiting the core's
 *   confirmation before the next batch, delivered msg/s at the consumer (reference K for Kafka)
 * - `nats-mqtt`: nats-server's own MQTT support (a private server), delivered msg/s at a NATS consumer
 *   on that server: what a gateway relaying MQTT into NATS should at least match
 *
 * Throughput is not a latency measurement, so there is no schedule here; the rate is what the
 * system sustains with this much concurrency.
 */
import type { SpoolConfig, StoreConfig } from '../../src/config/types.js'
import { nowMs, sleep } from './clock.js'
import { startCoreConsumer } from './core-consumer.js'
import { runName, type CoreEndpoint } from './core-endpoint.js'
import { benchDaemonConfig, removeBenchDataDir } from './daemon-config.js'
import { DeliveryTracker } from './delivery-tracker.js'
import { createDirectPublisher } from './direct-publisher.js'
import { MqttDevices } from './mqtt-devices.js'
import { NATS_MQTT_SUBJECT, startNatsMqttServer } from './nats-mqtt-server.js'
import { encodePayload } from './payload.js'
import type { Progress } from './progress.js'
import { startSut, type Sut } from './sut.js'
import type { Variant } from './latency-run.js'

export interface ThroughputOptions {
  endpoint: CoreEndpoint
  variant: Variant
  devices: number
  window: number
  payloadBytes: number
  durationMs: number
  graceMs: number
  /** edgebridge only: the spool to relay through (default: memory). */
  spool?: Partial<SpoolConfig>
  /** edgebridge only: the broker store (default: memory). */
  store?: Partial<StoreConfig>
  /** Publish retained messages (each one a write to the broker store). */
  retain?: boolean
  label?: string
  progress?: Progress
}

export interface ThroughputResult {
  variant: Variant
  label: string
  sent: number
  acked: number
  received: number
  lost: number
  duplicates: number
  publishErrors: number
  /** Acknowledged to the devices (or confirmed to the direct client) per second of the run. */
  ackedPerSecond: number
  /** Arrived at the core consumer per second, from the first send to the last arrival. */
  deliveredPerSecond: number
}

export async function runThroughputVariant(options: ThroughputOptions): Promise<ThroughputResult> {
  const { endpoint, variant } = options
  const label = options.label ?? variant
  const tracker = new DeliveryTracker(0)
  const target = runName('ebbench')
  const closers: (() => Promise<void>)[] = []
  let seq = 0
  let acked = 0
  let errors = 0
  let running = true
  const progressTick = setInterval(
    () => options.progress?.update(Math.round(Math.min(options.durationMs, nowMs() - started))),
    200,
  )
  let started = nowMs()
  try {
    let mqttPort: number | undefined
    if (variant === 'nats-mqtt') {
      const reference = await startNatsMqttServer()
      closers.push(() => reference.stop())
      mqttPort = reference.mqttPort
      const consumer = await startCoreConsumer(
        { ...endpoint, backend: 'nats', natsServers: [reference.natsUrl] },
        NATS_MQTT_SUBJECT,
        (p) => tracker.onPayload(p),
      )
      closers.unshift(() => consumer.close())
    } else if (variant !== 'aedes') {
      const consumer = await startCoreConsumer(endpoint, target, (p) => tracker.onPayload(p))
      closers.push(() => consumer.close())
    }
    options.progress?.phase(`${label} throughput`, options.durationMs)
    if (variant === 'direct') {
      const publisher = await createDirectPublisher(endpoint, target)
      closers.unshift(() => publisher.close())
      const batchSize = options.devices * options.window
      started = nowMs()
      const deadline = started + options.durationMs
      while (nowMs() < deadline) {
        const batch: Buffer[] = []
        for (let i = 0; i < batchSize; i++) batch.push(encodePayload(options.payloadBytes, seq++, nowMs()))
        tracker.expectMore(batchSize)
        try {
          await publisher.sendAndWait(batch)
          acked += batchSize
        } catch {
          errors += batchSize
        }
      }
    } else {
      if (mqttPort === undefined) {
        let sut: Sut
        if (variant === 'edgebridge') {
          const config = benchDaemonConfig({ endpoint, target, spool: options.spool, store: options.store })
          closers.push(async () => removeBenchDataDir(config))
          sut = await startSut({ kind: 'edgebridge', config })
        } else {
          sut = await startSut({ kind: 'aedes' })
        }
        closers.unshift(() => sut.stop())
        mqttPort = sut.port
      }
      const devices = await MqttDevices.connect({
        port: mqttPort,
        connections: options.devices,
        qos: 1,
        clientIdPrefix: `bench-tp-${variant}-${process.pid}`,
      })
      closers.unshift(() => devices.close())
      let inFlight = 0
      let allSettled: (() => void) | undefined
      const sendNext = (device: number): void => {
        const payload = encodePayload(options.payloadBytes, seq++, nowMs())
        tracker.expectMore(1)
        inFlight++
        devices.publishOn(
          device,
          payload,
          (err) => {
            inFlight--
            if (err) errors++
            else {
              acked++
              if (variant === 'aedes') tracker.onPayload(payload)
            }
            if (running) sendNext(device)
            else if (inFlight === 0) allSettled?.()
          },
          options.retain,
        )
      }
      started = nowMs()
      for (let d = 0; d < options.devices; d++) for (let w = 0; w < options.window; w++) sendNext(d)
      await sleep(options.durationMs)
      running = false
      const ackedAtStop = acked
      // Let what is in flight be acknowledged (bounded), so sent = acked + errors + unanswered.
      await Promise.race([new Promise<void>((res) => (allSettled = res)), sleep(options.graceMs)])
      acked = Math.max(acked, ackedAtStop)
    }
    const elapsedMs = nowMs() - started
    if (variant !== 'aedes') await tracker.waitForAll(options.graceMs)
    const counts = tracker.counts()
    const deliveredWindowMs = Math.max(tracker.lastArrival - started, 1)
    return {
      variant,
      label,
      sent: seq,
      acked,
      received: counts.received,
      lost: counts.lost,
      duplicates: counts.duplicates,
      publishErrors: errors,
      ackedPerSecond: acked / (elapsedMs / 1000),
      deliveredPerSecond: counts.received / (deliveredWindowMs / 1000),
    }
  } finally {
    running = false
    clearInterval(progressTick)
    options.progress?.stop()
    for (const close of closers) await close().catch(() => undefined)
  }
}
