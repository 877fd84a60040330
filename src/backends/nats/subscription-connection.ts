/**
 * A NATS connection of its own for a long-lived subscription (the downlink, requests), so a slow
 * device never holds up the uplink's flushes. It reconnects forever (NatsConnectionHolder): through a
 * reconnect nats.js subscribes again by itself, so `subscribe` runs once per *new* connection (the
 * first, or one made after nats.js gave up on the old).
 */
import type { NatsConnection } from '@nats-io/transport-node'
import type { Backend, DownlinkHandler, Subscription } from '../backend.js'
import type { EdgebridgeConfig, NatsConfig } from '../../config/types.js'
import type { Logger } from '../../observability/logger.js'
import { NatsConnectionHolder } from './nats-connection.js'

export async function onOwnConnection(
  config: NatsConfig,
  connectionName: string,
  log: Logger,
  /** Subscribes on a new connection. */
  subscribe: (nc: NatsConnection) => Promise<void>,
  /** Stops delivery and waits for what is in flight, before the connection closes. */
  stop: () => Promise<void>,
): Promise<Subscription> {
  let subscribedOn: NatsConnection | null = null
  const holder = new NatsConnectionHolder(config, connectionName, log, async (nc) => {
    if (subscribedOn === nc) return // a reconnect: nats.js has subscribed again itself
    subscribedOn = nc
    await subscribe(nc)
  })
  await holder.connect()
  let closing: Promise<void> | undefined
  return {
    close() {
      closing ??= (async () => {
        await stop()
        await holder.close()
      })()
      return closing
    },
  }
}

/** What a NATS downlink subscriber (core NATS or JetStream) is asked for. */
export interface NatsSubscribeRequest {
  config: NatsConfig
  /** The connection's name as the server shows it. */
  connectionName: string
  subjects: readonly string[]
  onMessage: DownlinkHandler
  /** The queue group (core NATS) or the durable consumer's group (JetStream). */
  groupId: string
  logger: Logger
}

/**
 * A backend's `subscribe` from a NATS subscriber: the downlink runs on a connection of its own,
 * named `edgebridge-<gatewayId>-downlink`.
 */
export function natsDownlink(
  subscriber: (request: NatsSubscribeRequest) => Promise<Subscription>,
  config: EdgebridgeConfig,
  logger: Logger,
): Backend['subscribe'] {
  const connectionName = `edgebridge-${config.gatewayId}-downlink`
  return (subjects, onMessage, groupId) =>
    subscriber({ config: config.nats, connectionName, subjects, onMessage, groupId, logger })
}
