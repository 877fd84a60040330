/**
 * What the devices are doing, as an operator asks it: who is connected (client id, listener, user,
 * since when, how many messages), how many connections each listener accepted, how many publishes
 * arrived at each QoS, and a tap on the publishes for the status page's live tail.
 *
 * Fed by the broker's events (ingress/activity-events.ts), off the acknowledgement path: it only
 * counts and hands each publish to the taps, which must not block (the live tail buffers with a
 * bound and drops, http/event-stream.ts).
 */

/** One connected device, as the status page lists it. */
export interface DeviceSession {
  clientId: string
  /** `type://host:port` of the listener that accepted it (a bounded label). */
  listener: string
  username: string | null
  /** Epoch ms of the connection. */
  since: number
  /** Publishes received on this connection. */
  messages: number
}

/** One device publish, as the live tail shows it. */
export interface DevicePublish {
  clientId: string
  topic: string
  payload: Buffer
  qos: number
  retain: boolean
  /** Epoch ms. */
  at: number
}

export type PublishTap = (publish: DevicePublish) => void

export class DeviceActivity {
  /** Connections accepted (CONNACK 0) per listener since start. */
  readonly acceptedByListener = new Map<string, number>()
  /** Publishes received from devices at QoS 0, 1 and 2 since start. */
  readonly publishesByQos: [number, number, number] = [0, 0, 0]
  private readonly sessions = new Map<object, DeviceSession>()
  private readonly taps = new Set<PublishTap>()

  connected(client: object, session: Omit<DeviceSession, 'messages'>): void {
    this.sessions.set(client, { ...session, messages: 0 })
    this.acceptedByListener.set(session.listener, (this.acceptedByListener.get(session.listener) ?? 0) + 1)
  }

  disconnected(client: object): void {
    this.sessions.delete(client)
  }

  published(client: object, publish: DevicePublish): void {
    const qos = publish.qos === 2 ? 2 : publish.qos === 1 ? 1 : 0
    this.publishesByQos[qos]++
    const session = this.sessions.get(client)
    if (session !== undefined) session.messages++
    for (const tap of this.taps) tap(publish)
  }

  /** The connected devices, oldest connection first. */
  devices(): DeviceSession[] {
    return [...this.sessions.values()].map((s) => ({ ...s }))
  }

  /** Connected devices per listener. */
  connectedByListener(): Map<string, number> {
    const out = new Map<string, number>()
    for (const s of this.sessions.values()) out.set(s.listener, (out.get(s.listener) ?? 0) + 1)
    return out
  }

  /** Calls `tap` with every publish from now on; the function returned stops it. */
  tap(tap: PublishTap): () => void {
    this.taps.add(tap)
    return () => this.taps.delete(tap)
  }
}
