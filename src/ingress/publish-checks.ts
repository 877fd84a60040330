/**
 * The checks a device's PUBLISH passes before it is spooled, as a named list run in order (the way
 * aedes lists its connect steps). Each returns undefined to pass, or the error that closes the
 * client: MQTT 3.1.1 has no negative PUBACK, so refusing a message means closing the connection
 * while the device still holds it.
 */
import type { Client, PublishPacket } from 'aedes'
import { EdgebridgeError } from '../errors.js'
import type { Logger } from '../observability/logger.js'

/** Decides whether a client may publish to a topic (ACL): null = allowed, else the reason. */
export type PublishPermission = (client: Client, topic: string) => Error | null

export interface PublishCheckContext {
  logger: Logger
  canPublish?: PublishPermission
  /** The core's limit for one payload, once known (Backend.maxPayloadBytes). */
  coreMaxPayloadBytes?: () => number | undefined
  counters: { denied: number; tooLargeForCore: number }
}

export type PublishCheck = (
  ctx: PublishCheckContext,
  client: Client,
  packet: PublishPacket,
) => Error | undefined

/** [MQTT-4.7.3-2] Topic Names MUST NOT include the null character. */
export const noNullCharacter: PublishCheck = (_ctx, _client, packet) =>
  packet.topic.includes('\u0000') ? new Error('topic contains the null character [MQTT-4.7.3-2]') : undefined

/**
 * [MQTT-1.5.3-1] ill-formed UTF-8 closes the connection. mqtt-packet has already decoded the topic and
 * turned each ill-formed sequence into U+FFFD, so that is all the gate can see; refusing it keeps
 * distinct byte strings from collapsing into one topic at the core. (A device that really uses U+FFFD
 * in a topic is refused too: the price of not re-parsing the bytes.)
 */
export const wellFormedUtf8: PublishCheck = (_ctx, _client, packet) =>
  packet.topic.includes('\ufffd') ? new Error('topic is not well-formed UTF-8 [MQTT-1.5.3-1]') : undefined

/**
 * aedes checks these for PUBLISH packets but not for a will, which comes from the CONNECT and is
 * published through this same hook: wildcards are not allowed in a Topic Name [MQTT-3.3.2-2]
 * [MQTT-4.7.1-1].
 */
export const noWildcards: PublishCheck = (_ctx, _client, packet) =>
  packet.topic.includes('+') || packet.topic.includes('#')
    ? new Error('wildcards are not allowed in a topic name [MQTT-3.3.2-2]')
    : undefined

/** QoS 3 is not a QoS [MQTT-3.1.2-14] (a will's QoS is not checked by aedes). */
export const validQos: PublishCheck = (_ctx, _client, packet) =>
  packet.qos > 2 ? new Error(`QoS ${packet.qos} is not allowed [MQTT-3.1.2-14]`) : undefined

/** Devices never publish into the broker's own $SYS tree (Mosquitto does the same); the ACL says the rest. */
export const mayPublish: PublishCheck = (ctx, client, packet) => {
  const denied =
    packet.topic === '$SYS' || packet.topic.startsWith('$SYS/')
      ? new EdgebridgeError('PUBLISH_DENIED', `client ${client.id} may not publish to $SYS topics`)
      : (ctx.canPublish?.(client, packet.topic) ?? null)
  if (denied === null) return undefined
  ctx.counters.denied++
  ctx.logger.warn({ clientId: client.id, topic: packet.topic }, 'publish denied; closing client')
  return denied
}

/** A message the core can never take must not be acknowledged: refuse it while the device has it. */
export const fitsTheCore: PublishCheck = (ctx, client, packet) => {
  const limit = ctx.coreMaxPayloadBytes?.()
  if (limit === undefined) return undefined
  const bytes = packet.payload.length + packet.topic.length + client.id.length
  if (bytes <= limit) return undefined
  ctx.counters.tooLargeForCore++
  ctx.logger.warn(
    { clientId: client.id, topic: packet.topic, bytes, limit },
    'payload larger than the core accepts; closing client',
  )
  return new EdgebridgeError(
    'BACKEND_REJECTED',
    `payload of ${bytes} bytes exceeds the core's limit of ${limit}`,
  )
}

/** In order: protocol checks first, then permission, then what the core can carry. */
export const publishChecks: readonly PublishCheck[] = [
  noNullCharacter,
  wellFormedUtf8,
  noWildcards,
  validQos,
  mayPublish,
  fitsTheCore,
]

export function runPublishChecks(
  ctx: PublishCheckContext,
  client: Client,
  packet: PublishPacket,
): Error | undefined {
  for (const check of publishChecks) {
    const rejection = check(ctx, client, packet)
    if (rejection !== undefined) return rejection
  }
  return undefined
}
