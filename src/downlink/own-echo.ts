/**
 * A message this gateway itself forwarded to the core is not imported back.
 *
 * A device's PUBLISH is already delivered to the gateway's local subscribers by the embedded broker;
 * if a downlink source also covers the name the uplink forwards it under (e.g. uplink `commands/x` ->
 * NATS `commands.x`, downlink source `commands.>`), importing it again would deliver it to those
 * subscribers a second time. nats-server leaf nodes suppress such echoes the same way.
 *
 * The uplink marks every record with this gateway's id (`gateway.id`: a header on NATS and Kafka, a
 * field on Redis Streams). Redis pub/sub carries no provenance, so there only the source patterns
 * keep the two directions apart (README, "Commands to devices").
 */
import type { DownlinkMessage } from '../backends/backend.js'
import { PROVENANCE } from '../record.js'

export function isOwnEcho(message: DownlinkMessage, gatewayId: string): boolean {
  return message.headers?.[PROVENANCE.gatewayId] === gatewayId
}
