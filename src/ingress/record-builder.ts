/**
 * The record a device's PUBLISH becomes: what the spool stores and the backends send. Built once per
 * message; optional fields are set only when present, so every record of a route has the same shape.
 */
import type { Client, PublishPacket } from 'aedes'
import type { Codec, QoS, RecordInput } from '../record.js'

export interface RouteChoice {
  target: string
  key?: string
  codec: Codec
}

export function buildRecord(
  client: Client,
  packet: PublishPacket,
  route: RouteChoice,
  gatewayId: string,
  username: string | undefined,
): RecordInput {
  const record: RecordInput = {
    topic: packet.topic,
    payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
    qos: packet.qos as QoS,
    retain: packet.retain,
    clientId: client.id,
    gatewayId,
    receivedAt: Date.now(),
    target: route.target,
    codec: route.codec,
  }
  if (username !== undefined) record.username = username
  if (route.key !== undefined) record.key = route.key
  return record
}
