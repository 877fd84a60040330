/**
 * The audit's Redis stream source: XRANGE in pages, from the first entry (or an entry id) up to the
 * last entry when the audit starts.
 */
import { Redis } from 'ioredis'
import { redisOptions } from '../backends/redis/redis-connection.js'
import { PROVENANCE } from '../record.js'
import { AuditInputError, coreUnreachable } from './audit-errors.js'
import { parseSeq, type AuditedRecord, type OpenSource } from './audited-record.js'

/** Entries per XRANGE call. */
const PAGE_ENTRIES = 5000

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}

export const openRedisStreamSource: OpenSource = async (config, key, from) => {
  if (from.time !== undefined) {
    // Entry ids are <ms>-<n>: a time is an id.
    from = { offset: `${from.time}-0` }
  }
  const { url, options } = redisOptions(config.redis, 'edgebridge-audit')
  const redis = new Redis(url, { ...options, retryStrategy: () => null })
  redis.on('error', () => undefined)
  try {
    await redis.connect()
  } catch (err) {
    redis.disconnect()
    throw coreUnreachable(`Redis at ${url}`, err)
  }
  const close = async () => redis.disconnect()
  let last: string | undefined
  let length: number
  try {
    if ((await redis.exists(key)) === 0) throw new AuditInputError(`Redis stream ${key} does not exist`)
    length = await redis.xlen(key)
    last = (await redis.xrevrange(key, '+', '-', 'COUNT', 1))[0]?.[0]
  } catch (err) {
    await close()
    throw err
  }

  async function* records(): AsyncGenerator<AuditedRecord> {
    if (last === undefined) return
    let start = from.offset ?? '-'
    for (;;) {
      const page = await redis.xrange(key, start, last, 'COUNT', PAGE_ENTRIES)
      for (const [, fields] of page) {
        yield {
          gatewayId: field(fields, PROVENANCE.gatewayId),
          seq: parseSeq(field(fields, PROVENANCE.seq)),
          clientId: field(fields, PROVENANCE.clientId),
        }
      }
      if (page.length < PAGE_ENTRIES) return
      start = `(${page[page.length - 1]![0]}`
    }
  }

  return {
    expected: from.offset === undefined ? length : undefined,
    description: `Redis stream ${key}`,
    records,
    close,
  }
}
