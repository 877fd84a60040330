/**
 * The ioredis connection both Redis backends (pub/sub and Streams) share: options from the config,
 * reconnect forever, fail fast while disconnected, one pipelined round trip per batch.
 *
 * While the server is unreachable a command must fail at once (retriably) rather than wait in ioredis'
 * offline queue: the forwarder owns retries and back-off, and a queued batch would be sent later behind
 * its back. Hence `enableOfflineQueue: false` and `maxRetriesPerRequest: 0`.
 */
import { abortedError, withAbort } from '../abort.js'
import { readFileSync } from 'node:fs'
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls'
import { Redis, type ChainableCommander, type RedisOptions } from 'ioredis'
import type { RedisConfig } from '../../config/types.js'
import { BackendError, ConfigError, errorMessage } from '../../errors.js'
import type { Logger } from '../../observability/logger.js'
import { isRedisAuthError, toBackendError } from './errors.js'

/** A batch's replies must arrive within this; then the batch fails retriably. */
const COMMAND_TIMEOUT_MS = 15_000 // 15 s: a 1 MiB batch over a slow uplink
const CONNECT_TIMEOUT_MS = 10_000 // 10 s
const RECONNECT_MAX_DELAY_MS = 2_000 // 2 s: reconnect attempts back off up to this, forever

function readFile(path: string, key: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${path}: ${errorMessage(err)}`, { cause: err })
  }
}

export function redisOptions(
  config: RedisConfig,
  connectionName: string,
): { url: string; options: RedisOptions } {
  try {
    new URL(config.url)
  } catch (err) {
    throw new ConfigError(`redis.url: ${JSON.stringify(config.url)} is not a URL (redis://host:port)`, {
      cause: err,
    })
  }
  const options: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (times) => Math.min(times * 100, RECONNECT_MAX_DELAY_MS),
    connectionName,
  }
  if (config.username !== '') options.username = config.username
  if (config.password !== '') options.password = config.password
  if (config.tls.enabled) {
    const tls: TlsConnectionOptions = { rejectUnauthorized: config.tls.rejectUnauthorized }
    if (config.tls.caFile !== '') tls.ca = readFile(config.tls.caFile, 'redis.tls.caFile')
    if (config.tls.certFile !== '') tls.cert = readFile(config.tls.certFile, 'redis.tls.certFile')
    if (config.tls.keyFile !== '') tls.key = readFile(config.tls.keyFile, 'redis.tls.keyFile')
    options.tls = tls
  }
  return { url: config.url, options }
}

export class RedisConnection {
  private client: Redis | null = null
  private closed = false
  private lastError: unknown = undefined
  /** The server refused the credentials on the latest attempt (ioredis follows with "Connection is closed"). */
  private authError: unknown = undefined
  private wasReady = false

  constructor(
    private readonly config: RedisConfig,
    private readonly connectionName: string,
    private readonly logger: Logger,
  ) {}

  async connect(): Promise<void> {
    if (this.closed) throw new BackendError('BACKEND_CLOSED', 'redis backend is closed')
    if (this.client !== null) return
    const { url, options } = redisOptions(this.config, this.connectionName)
    const client = new Redis(url, options)
    this.client = client
    client.on('ready', () => {
      this.lastError = undefined
      this.authError = undefined
      this.wasReady = true
      this.logger.info({ url: redactUrl(url) }, 'connected to redis')
    })
    client.on('error', (err: unknown) => {
      // ioredis emits one per failed attempt: log a change of reason, not every attempt.
      if (errorMessage(err) !== errorMessage(this.lastError)) {
        this.logger.warn({ err: errorMessage(err), url: redactUrl(url) }, 'redis connection error')
      }
      this.lastError = err
      if (isRedisAuthError(err)) this.authError = err
    })
    client.on('close', () => {
      if (this.wasReady && !this.closed)
        this.logger.warn({ url: redactUrl(url) }, 'redis connection lost; reconnecting')
      this.wasReady = false
    })
    // The first attempt may fail (server down): ioredis keeps retrying and send() fails retriably meanwhile.
    await client.connect().catch((err: unknown) => {
      this.lastError = err
    })
  }

  isConnected(): boolean {
    return !this.closed && this.client?.status === 'ready'
  }

  /** Runs the commands `build` queues as one pipeline and returns each reply; rejects with a BackendError. */
  async exec(build: (pipeline: ChainableCommander) => void, signal?: AbortSignal): Promise<unknown[]> {
    if (this.closed) throw new BackendError('BACKEND_CLOSED', 'redis backend is closed')
    if (signal?.aborted) throw abortedError()
    const client = this.client
    if (client === null)
      throw new BackendError('BACKEND_UNAVAILABLE', 'redis backend not connected yet', { retriable: true })
    if (client.status !== 'ready') {
      const why = this.lastError === undefined ? client.status : errorMessage(this.lastError)
      if (this.authError !== undefined) throw toBackendError(this.authError, 'redis refused the credentials')
      throw new BackendError('BACKEND_UNAVAILABLE', `redis not connected (${why})`, {
        retriable: true,
        cause: this.lastError,
      })
    }
    const pipeline = client.pipeline()
    build(pipeline)
    const replies = withAbort(pipeline.exec(), signal)
    let results: [Error | null, unknown][] | null
    try {
      results = await replies
    } catch (err) {
      throw toBackendError(err, 'redis pipeline failed')
    }
    if (results === null)
      throw new BackendError('BACKEND_UNKNOWN', 'redis pipeline returned no replies', { retriable: true })
    return results.map(([err, reply], i) => {
      if (err !== null) throw toBackendError(err, `redis command ${i + 1} of ${results.length} failed`)
      return reply
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const client = this.client
    this.client = null
    if (client === null) return
    if (client.status === 'ready') {
      await client.quit().catch(() => client.disconnect())
    } else {
      client.disconnect()
    }
  }
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return '(invalid url)'
  }
}
