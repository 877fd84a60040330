/**
 * A fleet of MQTT devices publishing QoS 1 at a fixed aggregate rate, the way real sensors do, for
 * tests that crash the daemon or take its core away underneath them.
 *
 * Device i (from `firstDevice`, default 0) connects as `device-<i>` with clean: false and publishes `{"d":i,"s":<seq>}` with seq = 0, 1,
 * 2... per device. The schedule is open loop: messages fall due at the rate whatever the broker does,
 * and a device that is disconnected keeps them (mqtt.js queues offline publishes in its outgoing
 * store). A message counts as acknowledged only when its PUBACK arrived: that, and nothing else, is
 * the promise the daemon made to the device.
 *
 * Re-sending: the daemon's broker keeps sessions in memory, so after a crash a device reconnects to a
 * broker that knows nothing of it. A QoS 1 device must then send again every message it has no PUBACK
 * for [MQTT-4.4.0-1]. mqtt.js does so: every QoS 1 publish stays in its outgoing store until the
 * PUBACK, and on each CONNACK the store is sent again, in order, before anything newer (client.js
 * `_onConnect` -> `startStreamProcess`). `drain()` proves it for every test: it waits until each
 * published message was acknowledged, which cannot happen if a message in flight at a crash were
 * never sent again.
 */
import mqtt, { type MqttClient } from 'mqtt'

/** How often the schedule looks at the clock (the rate is kept on average, not per tick). */
const TICK_MS = 10
/** How long a device waits before reconnecting after the broker went away. */
const RECONNECT_PERIOD_MS = 200

export interface DeviceFleetOptions {
  /** mqtt://127.0.0.1:<port> */
  url: string
  devices: number
  /** Messages per second of the whole fleet. */
  ratePerSecond: number
  /** The topic device `i` publishes to. */
  topic: (device: number) => string
  /**
   * Index of the first device (default 0): fleets on several gateways take disjoint ranges, so their
   * devices' client ids and `d` fields stay apart at a shared core.
   */
  firstDevice?: number
}

export interface FleetCounts {
  published: number
  acknowledged: number
  /** Published and not (yet) acknowledged. */
  unacknowledged: number
}

class Device {
  readonly client: MqttClient
  /** Next sequence number to publish. */
  nextSeq = 0
  /** acked[seq] === 1 once its PUBACK arrived. */
  acked = new Uint8Array(1024)
  ackedCount = 0
  errors = 0
  connects = 0

  constructor(
    readonly index: number,
    url: string,
    private readonly topic: string,
  ) {
    this.client = mqtt.connect(url, {
      clientId: `device-${index}`,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: RECONNECT_PERIOD_MS,
      connectTimeout: 5_000,
      keepalive: 30,
    })
    this.client.on('connect', () => this.connects++)
    // Errors are expected while the daemon is down (ECONNREFUSED); mqtt.js keeps reconnecting.
    this.client.on('error', () => undefined)
  }

  publishNext(): void {
    this.publish(this.nextSeq++)
  }

  private publish(seq: number): void {
    this.client.publish(this.topic, JSON.stringify({ d: this.index, s: seq }), { qos: 1 }, (err) => {
      if (err) {
        // While mqtt.js re-sends its store after a reconnect (one message per PUBACK), new publishes
        // wait in a queue it fails with "Connection closed" if the connection drops again: they were
        // never sent. A QoS 1 device keeps a message until its PUBACK, so this one sends it again,
        // in order: the failed ones are the newest, failed oldest first, and a microtask runs before
        // any timer can publish a newer one. Not from inside the callback: mqtt.js is still walking
        // that queue, and a publish now would join it.
        if (err.message === 'Connection closed' && !this.client.disconnecting) {
          queueMicrotask(() => this.publish(seq))
          return
        }
        this.errors++
        return
      }
      this.markAcked(seq)
    })
  }

  private markAcked(seq: number): void {
    if (seq >= this.acked.length) {
      const grown = new Uint8Array(Math.max(seq + 1, this.acked.length * 2))
      grown.set(this.acked)
      this.acked = grown
    }
    if (this.acked[seq] === 0) {
      this.acked[seq] = 1
      this.ackedCount++
    }
  }
}

export class DeviceFleet {
  private readonly devices: Device[]
  private timer: NodeJS.Timeout | undefined
  private startedAt = 0
  private scheduled = 0
  private closed = false

  private constructor(private readonly options: DeviceFleetOptions) {
    this.devices = Array.from({ length: options.devices }, (_, i) => {
      const index = (options.firstDevice ?? 0) + i
      return new Device(index, options.url, options.topic(index))
    })
  }

  /** Connects every device (resolves when all are connected) and starts publishing at the rate. */
  static async start(options: DeviceFleetOptions): Promise<DeviceFleet> {
    const fleet = new DeviceFleet(options)
    await Promise.all(
      fleet.devices.map(
        (d) =>
          new Promise<void>((resolve) => {
            if (d.client.connected) resolve()
            else d.client.once('connect', () => resolve())
          }),
      ),
    )
    fleet.startedAt = performance.now()
    fleet.timer = setInterval(() => fleet.tick(), TICK_MS)
    return fleet
  }

  /** Publishes what fell due since the start, round robin over the devices. */
  private tick(): void {
    const due = Math.floor(((performance.now() - this.startedAt) / 1000) * this.options.ratePerSecond)
    for (; this.scheduled < due; this.scheduled++) {
      this.devices[this.scheduled % this.devices.length]!.publishNext()
    }
  }

  /** Stops scheduling new messages; those in flight still get their PUBACKs. */
  stopPublishing(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  counts(): FleetCounts {
    let published = 0
    let acknowledged = 0
    for (const d of this.devices) {
      published += d.nextSeq
      acknowledged += d.ackedCount
    }
    return { published, acknowledged, unacknowledged: published - acknowledged }
  }

  /** Total connects of all devices (the first ones included): shows the devices came back. */
  connects(): number {
    return this.devices.reduce((n, d) => n + d.connects, 0)
  }

  /** Publish callbacks that reported an error (the client gave a message up): should stay 0. */
  errors(): number {
    return this.devices.reduce((n, d) => n + d.errors, 0)
  }

  /** Per device, the sequence numbers whose PUBACK arrived. */
  acknowledged(): Map<number, number[]> {
    const out = new Map<number, number[]>()
    for (const d of this.devices) {
      const seqs: number[] = []
      for (let s = 0; s < d.nextSeq; s++) if (d.acked[s] === 1) seqs.push(s)
      out.set(d.index, seqs)
    }
    return out
  }

  /**
   * Resolves once every published message was acknowledged (call after stopPublishing()); rejects
   * after `timeoutMs` with the counts, which shows messages that were never sent again.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (this.counts().unacknowledged > 0) {
      if (Date.now() > deadline) {
        const c = this.counts()
        throw new Error(
          `devices still wait for ${c.unacknowledged} PUBACK(s) after ${timeoutMs} ms ` +
            `(published ${c.published}, acknowledged ${c.acknowledged}, publish errors ${this.errors()})`,
        )
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  /** Disconnects every device. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.stopPublishing()
    await Promise.all(this.devices.map((d) => d.client.endAsync(true).catch(() => undefined)))
  }
}
