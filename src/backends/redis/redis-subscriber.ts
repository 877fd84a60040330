/**
 * The `redis` backend's downlink: PSUBSCRIBE to the rules' patterns on a connection of its own (a
 * connection in subscribe mode can run no other command).
 *
 * Delivery: at-most-once, like pub/sub itself: a message published while the gateway is disconnected
 * is gone. Pub/sub has no consumer groups, so `groupId` has no effect: every gateway subscribed to a
 * pattern receives every message on it. Messages are handed to `onMessage` one at a time, in arrival
 * order. While Redis is unreachable the client reconnects forever and subscribes again (ioredis'
 * autoResubscribe); nothing here ever stops the uplink.
 */
import { Redis } from 'ioredis'
import type { DownlinkHandler, Subscription } from '../backend.js'
import type { RedisConfig } from '../../config/types.js'
import { errorMessage } from '../../errors.js'
import { componentLogger, type Logger } from '../../observability/logger.js'
import { redisOptions } from './redis-connection.js'
import { SerialQueue } from './serial-queue.js'

export async function subscribeRedisChannels(
  config: RedisConfig,
  connectionName: string,
  patterns: readonly string[],
  onMessage: DownlinkHandler,
  logger: Logger,
): Promise<Subscription> {
  const log = componentLogger(logger, 'downlink.redis')
  const { url, options } = redisOptions(config, connectionName)
  const client = new Redis(url, {
    ...options,
    // Unlike the uplink's connection, commands wait for the connection: PSUBSCRIBE is sent once Redis
    // is reachable, and a subscriber connection has no other commands to fail fast.
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    commandTimeout: undefined,
    autoResubscribe: true,
  })
  const queue = new SerialQueue()
  let lastError = ''
  client.on('error', (err: unknown) => {
    if (errorMessage(err) !== lastError)
      log.warn({ err: errorMessage(err) }, 'redis downlink connection error')
    lastError = errorMessage(err)
  })
  client.on('ready', () => {
    lastError = ''
  })
  let closed = false
  client.on('pmessageBuffer', (pattern: string, channel: Buffer, message: Buffer) => {
    if (closed) return
    queue.push(() =>
      onMessage({ source: pattern, subject: channel.toString('utf8'), payload: message }).catch(() => {
        // Logged and counted by the downlink; pub/sub has nothing to redeliver from.
      }),
    )
  })
  await client.connect().catch(() => undefined) // first attempt failed: ioredis keeps retrying
  void client.psubscribe(...patterns).then(
    () => log.info({ patterns }, 'redis downlink subscribed'),
    (err: unknown) => log.error({ err: errorMessage(err), patterns }, 'redis downlink PSUBSCRIBE failed'),
  )
  let closing: Promise<void> | undefined
  return {
    close() {
      closing ??= (async () => {
        closed = true
        await queue.idle()
        if (client.status === 'ready') await client.quit().catch(() => client.disconnect())
        else client.disconnect()
      })()
      return closing
    },
  }
}
