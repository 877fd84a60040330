/**
 * Bench devices: N MQTT 3.1.1 connections (mqtt.js) to the broker under test. Messages are spread
 * over the connections round-robin; each connection publishes to bench/<n>. With QoS 1 the PUBACK
 * of every message is counted (and timed from the scheduled send time in `ackHistogram`), so a
 * run also reports what the devices were told.
 */
import mqtt, { type MqttClient } from 'mqtt'
import { nowMs } from './clock.js'
import { LatencyHistogram } from './histogram.js'

export interface MqttDevicesOptions {
  port: number
  host?: string
  connections: number
  qos: 0 | 1
  clientIdPrefix: string
}

export class MqttDevices {
  readonly ackHistogram = new LatencyHistogram()
  acked = 0
  errors = 0
  /** Called with each acknowledged message's payload (QoS 1: on its PUBACK). */
  onAck: ((payload: Buffer) => void) | undefined
  private next = 0

  private constructor(
    readonly clients: MqttClient[],
    private readonly qos: 0 | 1,
  ) {}

  static async connect(options: MqttDevicesOptions): Promise<MqttDevices> {
    const host = options.host ?? '127.0.0.1'
    const clients = await connectMany(options.connections, (i) =>
      mqtt.connectAsync({
        host,
        port: options.port,
        protocolVersion: 4,
        clientId: `${options.clientIdPrefix}-${i}`,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 30_000,
        keepalive: 300,
      }),
    )
    for (const c of clients) noDelay(c)
    return new MqttDevices(clients, options.qos)
  }

  topicOf(index: number): string {
    return `bench/${index}`
  }

  /** Publishes one message on the next connection; never waits for its acknowledgement. */
  publish(payload: Buffer, scheduledMs: number): void {
    const i = this.next
    this.next = (this.next + 1) % this.clients.length
    this.publishOn(i, payload, (err) => {
      if (err) {
        this.errors++
        return
      }
      this.acked++
      if (this.qos === 1) this.ackHistogram.recordMs(nowMs() - scheduledMs)
      this.onAck?.(payload)
    })
  }

  publishOn(index: number, payload: Buffer, done: (err?: Error) => void, retain = false): void {
    this.clients[index]!.publish(this.topicOf(index), payload, { qos: this.qos, retain }, (err) =>
      done(err ?? undefined),
    )
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.endAsync(true).catch(() => undefined)))
  }
}

/** Opens connections a batch at a time, so thousands of CONNECTs do not all wait in one backlog. */
export async function connectMany<T>(
  count: number,
  open: (index: number) => Promise<T>,
  batch = 100,
): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < count; i += batch) {
    const n = Math.min(batch, count - i)
    out.push(...(await Promise.all(Array.from({ length: n }, (_, k) => open(i + k)))))
  }
  return out
}

/** An MQTT subscriber on the broker under test: where the plain-aedes reference measures arrival. */
export async function mqttSubscriber(
  port: number,
  qos: 0 | 1,
  onPayload: (payload: Uint8Array) => void,
): Promise<{ close(): Promise<void> }> {
  const client = await mqtt.connectAsync({
    host: '127.0.0.1',
    port,
    protocolVersion: 4,
    clientId: `bench-sub-${process.pid}-${Math.random().toString(36).slice(2, 7)}`,
    clean: true,
    reconnectPeriod: 0,
  })
  noDelay(client)
  client.on('message', (_topic, payload) => onPayload(payload))
  await client.subscribeAsync('bench/#', { qos })
  return { close: () => client.endAsync(true).then(() => undefined) }
}

/**
 * Latency-sensitive clients turn Nagle's algorithm off: with it, small QoS 0 publishes wait for the
 * peer's delayed ACK (tens of ms) and the bench would measure TCP, not the broker.
 */
export function noDelay(client: MqttClient): void {
  const stream = client.stream as { setNoDelay?: (on: boolean) => void }
  stream.setNoDelay?.(true)
}
