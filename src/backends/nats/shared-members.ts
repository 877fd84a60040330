/**
 * What the core NATS and JetStream backends have in common: the connection's lifecycle, the payload
 * limit learnt from the server, and the downlink subscription. Only `send` differs between them.
 */
import type { Backend } from '../backend.js'
import type { EdgebridgeConfig } from '../../config/types.js'
import type { Logger } from '../../observability/logger.js'
import type { NatsConnectionHolder } from './nats-connection.js'
import { subscribeNatsSubjects } from './nats-subscriber.js'
import { natsDownlink } from './subscription-connection.js'

export type SharedNatsMembers = Pick<
  Backend,
  'connect' | 'isConnected' | 'maxPayloadBytes' | 'close' | 'subscribe'
>

export function sharedNatsMembers(
  holder: NatsConnectionHolder,
  config: EdgebridgeConfig,
  logger: Logger,
): SharedNatsMembers {
  return {
    connect: () => holder.connect(),
    isConnected: () => holder.isConnected(),
    maxPayloadBytes: () => holder.maxPayloadBytes(),
    close: () => holder.close(),
    subscribe: natsDownlink(subscribeNatsSubjects, config, logger),
  }
}
