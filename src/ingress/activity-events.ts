/**
 * Feeds the broker's events into a DeviceActivity (observability/device-activity.ts): connections
 * (aedes 'client', after CONNACK 0), disconnections and device publishes. aedes emits 'publish'
 * after a message passed authorizePublish (publish-gate.ts), so the tail shows what the gateway
 * accepted; the broker's own publishes ($SYS, downlink commands) have no client and are left out.
 */
import type { Aedes, Client, PublishPacket } from 'aedes'
import type { DeviceActivity } from '../observability/device-activity.js'
import { identityOf } from './auth/authenticator.js'
import { connectionInfo } from './listeners/connection-info.js'

export function wireActivityEvents(broker: Aedes, activity: DeviceActivity): void {
  broker.on('client', (client: Client) => {
    activity.connected(client, {
      clientId: client.id,
      listener: connectionInfo(client.conn)?.listener ?? 'other',
      username: identityOf(client)?.username ?? null,
      since: Date.now(),
    })
  })
  broker.on('clientDisconnect', (client: Client) => activity.disconnected(client))
  broker.on('publish', (packet: PublishPacket, client: Client | null) => {
    if (client === null || client === undefined) return
    activity.published(client, {
      clientId: client.id,
      topic: packet.topic,
      payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
      qos: packet.qos,
      retain: packet.retain,
      at: Date.now(),
    })
  })
}
