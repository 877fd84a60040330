/**
 * The `redis-streams` backend's downlink: a consumer group per `groupId` on each source stream, read
 * with XREADGROUP on a connection of its own (BLOCK holds the connection).
 *
 * - The group is created at the stream's end (`XGROUP CREATE <key> <groupId> $ MKSTREAM`) the first
 *   time: a new gateway gets the commands sent from then on, not the stream's history.
 * - Each entry is XACKed only after `onMessage` resolved (the devices have it): at-least-once. A
 *   failure leaves it pending; after a pause the loop reads this consumer's pending entries (id `0`)
 *   first, then new ones (`>`). The consumer name is the gateway id, so a restarted gateway takes up
 *   its own pending entries.
 * - Gateways sharing a groupId split the entries; each groupId gets every entry.
 * - An entry's `payload` field is the message; its other fields are passed on as headers (`topic`
 *   chooses the MQTT topic, see downlink/default-topic.ts). An entry without `payload` is delivered
 *   with an empty payload.
 * - While Redis is unreachable, reads fail fast and the loop retries with back-off; the uplink is not
 *   affected.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { Redis } from 'ioredis'
import type { DownlinkHandler, DownlinkMessage, Subscription } from '../backend.js'
import type { RedisConfig } from '../../config/types.js'
import { errorMessage } from '../../errors.js'
import { componentLogger, type Logger } from '../../observability/logger.js'
import { redisOptions } from './redis-connection.js'

const BLOCK_MS = 5_000 // 5 s: how long one XREADGROUP waits for new entries
const READ_COUNT = 100 // entries per stream per read
const RETRY_MAX_MS = 5_000 // 5 s: back-off ceiling after a failed read or delivery

type StreamReply = [key: Buffer, entries: [id: Buffer, fields: Buffer[]][]][] | null

export async function subscribeRedisStreams(
  config: RedisConfig,
  connectionName: string,
  streams: readonly string[],
  onMessage: DownlinkHandler,
  groupId: string,
  consumerName: string,
  logger: Logger,
): Promise<Subscription> {
  const log = componentLogger(logger, 'downlink.redis-streams')
  const { url, options } = redisOptions(config, connectionName)
  // No command timeout: XREADGROUP BLOCK waits on purpose. Offline: fail fast, the loop retries.
  const client = new Redis(url, { ...options, commandTimeout: undefined })
  let lastError = ''
  client.on('error', (err: unknown) => {
    if (errorMessage(err) !== lastError)
      log.warn({ err: errorMessage(err) }, 'redis downlink connection error')
    lastError = errorMessage(err)
  })
  const stop = new AbortController()
  const groupsReady = new Set<string>()
  /** True while an XREADGROUP BLOCK waits: close() may cut it short by disconnecting. */
  let blocked = false

  const ensureGroups = async (): Promise<void> => {
    for (const key of streams) {
      if (groupsReady.has(key)) continue
      try {
        await client.xgroup('CREATE', key, groupId, '$', 'MKSTREAM')
        log.info({ stream: key, groupId }, 'redis downlink consumer group created')
      } catch (err) {
        if (!errorMessage(err).startsWith('BUSYGROUP')) throw err
      }
      groupsReady.add(key)
    }
  }

  /** One read; returns how many entries it delivered. `from` is '0' (own pending) or '>' (new). */
  const readOnce = async (from: '0' | '>'): Promise<number> => {
    if (stop.signal.aborted) return 0
    blocked = from === '>'
    const reply = (await client
      .callBuffer(
        'XREADGROUP',
        'GROUP',
        groupId,
        consumerName,
        'COUNT',
        READ_COUNT,
        ...(from === '>' ? ['BLOCK', BLOCK_MS] : []),
        'STREAMS',
        ...streams,
        ...streams.map(() => from),
      )
      .finally(() => {
        blocked = false
      })) as StreamReply
    let delivered = 0
    for (const [keyBuffer, entries] of reply ?? []) {
      const key = keyBuffer.toString('utf8')
      for (const [idBuffer, fields] of entries) {
        if (stop.signal.aborted) return delivered
        // A pending entry deleted from the stream (XDEL, trimming) comes back without fields.
        if (fields !== null && fields !== undefined) await onMessage(toMessage(key, fields))
        await client.xack(key, groupId, idBuffer)
        delivered++
      }
    }
    return delivered
  }

  const loop = async (): Promise<void> => {
    let failures = 0
    let pendingFirst = true
    while (!stop.signal.aborted) {
      try {
        if (client.status === 'wait') await client.connect()
        await ensureGroups()
        if (pendingFirst) {
          // Own entries delivered earlier but never acknowledged (a crash, a failed delivery).
          while (!stop.signal.aborted && (await readOnce('0')) > 0);
          pendingFirst = false
        }
        await readOnce('>')
        failures = 0
      } catch (err) {
        if (stop.signal.aborted) return
        failures++
        pendingFirst = true
        if (failures === 1)
          log.warn({ err: errorMessage(err), streams }, 'redis downlink read failed; retrying')
        try {
          await delay(Math.min(100 * 2 ** failures, RETRY_MAX_MS), undefined, { signal: stop.signal })
        } catch {
          return
        }
      }
    }
  }

  const running = loop()
  log.info({ streams, groupId, consumer: consumerName }, 'redis downlink reading')
  let closing: Promise<void> | undefined
  return {
    close() {
      closing ??= (async () => {
        stop.abort()
        // Disconnecting rejects a blocked XREADGROUP at once; a delivery in flight finishes (and is
        // acknowledged) first.
        if (blocked) client.disconnect()
        await running
        client.disconnect()
      })()
      return closing
    },
  }
}

function toMessage(key: string, fields: Buffer[]): DownlinkMessage {
  let payload: Buffer = Buffer.alloc(0)
  const headers: Record<string, string> = {}
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = (fields[i] as Buffer).toString('utf8')
    const value = fields[i + 1] as Buffer
    if (name === 'payload') payload = value
    else headers[name] = value.toString('utf8')
  }
  return { source: key, subject: key, payload, headers }
}
