/**
 * The NATS connection both NATS backends (core and JetStream) share: options and credentials from the
 * config, a first connect that keeps trying in the background, reconnect forever afterwards.
 *
 * Why not `waitOnFirstConnect`: with it, nats.js' connect() only resolves once a server answers and
 * offers no way to give up, so a gateway shut down while NATS is unreachable would never exit. This
 * class retries the first connect itself (with a cancellable wait) and, once connected, lets nats.js
 * reconnect forever (`maxReconnectAttempts: -1`). Meanwhile sends fail retriably.
 */
import { readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type Authenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node'
import type { NatsConfig } from '../../config/types.js'
import { BackendError, ConfigError, errorMessage } from '../../errors.js'
import type { Logger } from '../../observability/logger.js'
import { isNatsAuthError, toBackendError } from './errors.js'

const CONNECT_TIMEOUT_MS = 10_000 // 10 s per attempt
const RECONNECT_WAIT_MS = 1_000 // 1 s between attempts on one server
const FIRST_CONNECT_RETRY_MAX_MS = 5_000 // 5 s: back-off ceiling while the first connect fails
const PING_INTERVAL_MS = 20_000 // 20 s: notice a dead link (no FIN) within ~3 pings

function readFile(path: string, key: string): Uint8Array {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${path}: ${errorMessage(err)}`, { cause: err })
  }
}

/** nats.js connection options from the config; throws ConfigError for unreadable files or bad URLs. */
export function natsOptions(config: NatsConfig, name: string): NodeConnectionOptions {
  if (config.servers.length === 0) throw new ConfigError('nats.servers: at least one server is needed')
  for (const server of config.servers) {
    try {
      new URL(server.includes('://') ? server : `nats://${server}`)
    } catch (err) {
      throw new ConfigError(
        `nats.servers: ${JSON.stringify(server)} is not a server address (nats://host:port)`,
        {
          cause: err,
        },
      )
    }
  }
  const options: NodeConnectionOptions = {
    servers: config.servers,
    name,
    timeout: CONNECT_TIMEOUT_MS,
    maxReconnectAttempts: -1,
    reconnectTimeWait: RECONNECT_WAIT_MS,
    pingInterval: PING_INTERVAL_MS,
  }
  if (config.user !== '') {
    options.user = config.user
    options.pass = config.password
  }
  if (config.token !== '') options.token = config.token
  const authenticators: Authenticator[] = []
  if (config.credsFile !== '')
    authenticators.push(credsAuthenticator(readFile(config.credsFile, 'nats.credsFile')))
  if (config.nkeySeedFile !== '') {
    const seed = Buffer.from(readFile(config.nkeySeedFile, 'nats.nkeySeedFile')).toString('utf8').trim()
    authenticators.push(nkeyAuthenticator(new TextEncoder().encode(seed)))
  }
  if (authenticators.length > 0) options.authenticator = authenticators
  if (config.tls.enabled) {
    for (const [key, path] of [
      ['nats.tls.caFile', config.tls.caFile],
      ['nats.tls.certFile', config.tls.certFile],
      ['nats.tls.keyFile', config.tls.keyFile],
    ] as const) {
      if (path !== '') readFile(path, key)
    }
    options.tls = {
      rejectUnauthorized: config.tls.rejectUnauthorized,
      ...(config.tls.caFile !== '' ? { caFile: config.tls.caFile } : {}),
      ...(config.tls.certFile !== '' ? { certFile: config.tls.certFile } : {}),
      ...(config.tls.keyFile !== '' ? { keyFile: config.tls.keyFile } : {}),
    }
  }
  return options
}

/** Bytes kept for the header block's fixed part: NATS/1.0 line, header names, seq, time, msg id. */
const NATS_FIXED_HEADER_ROOM = 1024 // 1 KiB

export class NatsConnectionHolder {
  private nc: NatsConnection | null = null
  private connected = false
  private closed = false
  private lastError: unknown = undefined
  private started = false
  private readonly stop = new AbortController()
  private loop: Promise<void> = Promise.resolve()

  /** @param onConnect runs after each new connection (first connect): e.g. create the JetStream stream. */
  constructor(
    private readonly config: NatsConfig,
    private readonly name: string,
    private readonly logger: Logger,
    private readonly onConnect?: (nc: NatsConnection) => Promise<void>,
  ) {}

  async connect(): Promise<void> {
    if (this.closed) throw new BackendError('BACKEND_CLOSED', 'nats backend is closed')
    if (this.started) return
    const options = natsOptions(this.config, this.name)
    this.started = true
    // Try once in the foreground so a reachable server is ready when connect() resolves.
    const first = await this.attempt(options)
    if (!first) this.loop = this.connectLoop(options)
  }

  private async attempt(options: NodeConnectionOptions): Promise<boolean> {
    try {
      const nc = await connect(options)
      if (this.closed) {
        await nc.close().catch(() => undefined)
        return true
      }
      // On the first connection the hook (e.g. creating the stream) finishes before connect() resolves.
      await this.adopt(nc, options)
      return true
    } catch (err) {
      if (errorMessage(err) !== errorMessage(this.lastError)) {
        this.logger.warn(
          { err: errorMessage(err), servers: this.config.servers },
          'cannot connect to nats; retrying',
        )
      }
      this.lastError = err
      return false
    }
  }

  private async connectLoop(options: NodeConnectionOptions): Promise<void> {
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        await delay(Math.min(attempt * 250, FIRST_CONNECT_RETRY_MAX_MS), undefined, {
          signal: this.stop.signal,
        })
      } catch {
        return // closed
      }
      if (await this.attempt(options)) return
    }
  }

  private adopt(nc: NatsConnection, options: NodeConnectionOptions): Promise<void> {
    this.nc = nc
    this.connected = true
    this.lastError = undefined
    this.logger.info({ server: nc.getServer() }, 'connected to nats')
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          this.connected = false
          this.logger.warn({ server: s.server }, 'nats connection lost; reconnecting')
        } else if (s.type === 'reconnect') {
          this.connected = true
          this.logger.info({ server: s.server }, 'reconnected to nats')
          void this.runOnConnect(nc)
        } else if (s.type === 'error') {
          this.lastError = s.error
        }
      }
    })()
    void nc.closed().then((err) => {
      this.connected = false
      if (this.closed || this.nc !== nc) return
      // nats.js gave up (e.g. the server refused the credentials twice): start over, keep the reason.
      this.nc = null
      if (err !== undefined) this.lastError = err
      this.logger.error(
        { err: errorMessage(err) },
        'nats connection closed by the client library; reconnecting',
      )
      this.loop = this.connectLoop(options)
    })
    return this.runOnConnect(nc)
  }

  private async runOnConnect(nc: NatsConnection): Promise<void> {
    if (this.onConnect === undefined) return
    await this.onConnect(nc).catch((err: unknown) => {
      this.logger.warn({ err: errorMessage(err) }, 'nats connect hook failed; will retry on the next send')
    })
  }

  /**
   * The largest MQTT payload one message can carry: the server's max_payload (from its INFO; it
   * counts headers too) less room for the fixed provenance headers. Topic, client id and username
   * also travel in headers; the ingress subtracts those per message.
   */
  maxPayloadBytes(): number | undefined {
    const max = this.nc?.info?.max_payload
    return max === undefined ? undefined : max - NATS_FIXED_HEADER_ROOM
  }

  isConnected(): boolean {
    return !this.closed && this.nc !== null && this.connected && !this.nc.isClosed()
  }

  /** The connection, or a BackendError that says why there is none (retriable unless credentials). */
  current(): NatsConnection {
    if (this.closed) throw new BackendError('BACKEND_CLOSED', 'nats backend is closed')
    const nc = this.nc
    if (nc !== null && this.isConnected()) return nc
    if (isNatsAuthError(this.lastError)) throw toBackendError(this.lastError, 'nats refused the credentials')
    const why = this.lastError === undefined ? 'not connected' : errorMessage(this.lastError)
    throw new BackendError('BACKEND_UNAVAILABLE', `nats not connected (${why})`, {
      retriable: true,
      cause: this.lastError,
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.connected = false
    this.stop.abort()
    const nc = this.nc
    this.nc = null
    if (nc !== null) await nc.close().catch(() => undefined)
    await this.loop
  }
}
