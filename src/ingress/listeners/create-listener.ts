/**
 * MQTT listeners: `tcp`, `tls`, `ws` and `wss`. Each accepts connections and hands a duplex stream to
 * `broker.handle`; everything MQTT happens in aedes. What happens here:
 *
 * - Admission before any MQTT work: the per-listener `maxConnections` and the optional `admit` hook
 *   (global cap, banned addresses) run on the raw socket; a refused socket is closed before the TLS or
 *   MQTT handshake, so a flood costs a file descriptor for a moment and nothing else.
 * - TLS: at least TLS 1.2 (TLS 1.3 allowed); `requireCertificate` asks for a client certificate and
 *   refuses one that does not verify against `caFile`. The verified certificate's CN is recorded for
 *   `useIdentityAsUsername`.
 * - `reloadCertificates()` re-reads the files and swaps them in with `setSecureContext`: new handshakes
 *   use the new certificate, connected clients stay connected.
 *
 * Memory: `ws` (and `https`) are imported only by a WebSocket listener, and a connection costs this
 * file one entry in `sockets` and nothing else: the socket's handlers are made once per listener.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer, type TLSSocket, type TlsOptions } from 'node:tls'
import type { Duplex } from 'node:stream'
import type { Aedes } from 'aedes'
import type { WebSocketServer } from 'ws'
import type { ListenerConfig } from '../../config/types.js'
import { EdgebridgeError } from '../../errors.js'
import type { Logger } from '../../observability/logger.js'
import { anonymousPolicy } from '../auth/anonymous-policy.js'
import { attachConnectionInfo, type ConnectionInfo } from './connection-info.js'
import { readTlsFiles } from './tls-files.js'

export interface ListenerHandle {
  /** The bound address (the real port when the config said 0). */
  address: { host: string; port: number }
  /** `type://host:port`, for logs. */
  name: string
  close(): Promise<void>
  reloadCertificates(): Promise<void>
}

/** Decides whether a freshly accepted socket may proceed; returns the function to call when it closes. */
export type AdmitHook = (socket: Socket, listener: string) => (() => void) | null

export interface ListenerOptions {
  admit?: AdmitHook
}

const DEFAULT_TLS_MIN_VERSION = 'TLSv1.2'

function peerCn(socket: TLSSocket): string | null {
  if (!socket.authorized) return null
  const cert = socket.getPeerCertificate()
  const cn = cert?.subject?.CN
  return typeof cn === 'string' && cn !== '' ? cn : Array.isArray(cn) ? (cn[0] ?? null) : null
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): EdgebridgeError {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`
  if (err.code === 'EADDRINUSE') {
    return new EdgebridgeError('LISTEN_ADDRESS_IN_USE', `${where} is already in use`, { cause: err })
  }
  return new EdgebridgeError('LISTEN_FAILED', `cannot listen on ${where}: ${err.message}`, { cause: err })
}

export async function createListener(
  config: ListenerConfig,
  broker: Aedes,
  logger: Logger,
  options: ListenerOptions = {},
): Promise<ListenerHandle> {
  const configuredName = `${config.type}://${config.host}:${config.port}`
  const log = logger.child({ listener: configuredName })
  const secure = config.type === 'tls' || config.type === 'wss'
  const tlsFiles = secure ? await readTlsFiles(config, configuredName) : undefined
  const wantsCert = config.tls.requireCertificate || config.tls.useIdentityAsUsername
  const tlsOptions: TlsOptions | undefined = tlsFiles && {
    ...tlsFiles,
    minVersion: config.tls.minVersion ?? DEFAULT_TLS_MIN_VERSION,
    requestCert: wantsCert,
    rejectUnauthorized: config.tls.requireCertificate,
  }
  // The ingress passes the listener's policy already decided with the gateway's credentials
  // (anonymous-policy.ts); a listener made on its own knows of none.
  const allowAnonymous = anonymousPolicy(config, null).allowAnonymous
  let name = configuredName

  const info = (socket: Socket): ConnectionInfo => ({
    listener: name,
    type: config.type,
    allowAnonymous,
    useIdentityAsUsername: config.tls.useIdentityAsUsername,
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    certificateCn: secure ? peerCn(socket as TLSSocket) : null,
  })

  const handOver = (stream: Duplex, socket: Socket, req?: IncomingMessage): void => {
    attachConnectionInfo(stream, info(socket))
    broker.handle(stream, req)
  }

  let server: Server
  let http: HttpServer | undefined
  let wss: WebSocketServer | undefined
  if (config.type === 'tcp') {
    server = createNetServer((socket) => handOver(socket, socket))
  } else if (config.type === 'tls') {
    server = createTlsServer(tlsOptions!, (socket) => handOver(socket, socket))
  } else {
    const { WebSocketServer, createWebSocketStream } = await import('ws')
    http = config.type === 'wss' ? (await import('node:https')).createServer(tlsOptions!) : createHttpServer()
    server = http
    wss = new WebSocketServer({ server: http, path: config.path || '/mqtt' })
    wss.on('connection', (ws, req) => {
      const stream = createWebSocketStream(ws)
      // The ws stream forwards socket errors; aedes attaches its own handler, this one covers the gap.
      stream.on('error', (err) => log.debug({ err }, 'websocket stream error'))
      handOver(stream, req.socket, req)
    })
    wss.on('error', (err) => log.warn({ err }, 'websocket server error'))
  }

  // Admission runs first on the raw socket, before the TLS handshake and before MQTT.
  /** Open sockets, each with the admission's release (called once, when the socket closes). */
  const sockets = new Map<Socket, () => void>()
  function onSocketError(this: Socket, err: Error): void {
    log.debug({ err, remoteAddress: this.remoteAddress }, 'socket error')
  }
  function onSocketClose(this: Socket): void {
    const release = sockets.get(this)
    sockets.delete(this)
    release?.()
  }
  server.prependListener('connection', (socket: Socket) => {
    socket.on('error', onSocketError)
    if (config.maxConnections > 0 && sockets.size >= config.maxConnections) {
      log.warn(
        { remoteAddress: socket.remoteAddress, maxConnections: config.maxConnections },
        'listener connection cap reached, connection refused',
      )
      socket.destroy()
      return
    }
    const release = options.admit ? options.admit(socket, name) : () => {}
    if (!release) {
      socket.destroy()
      return
    }
    // MQTT packets are small and latency-bound (a PUBLISH to a device, a PUBACK it waits for): with
    // Nagle's algorithm a write waits for the ACK of the previous one, which a device that has nothing
    // to send back delays by up to 40 ms (delayed ACK).
    socket.setNoDelay(true)
    sockets.set(socket, release)
    // 'close' is emitted once: a plain listener, without once()'s wrapper per socket.
    socket.on('close', onSocketClose)
  })
  if (secure) {
    server.on('tlsClientError', (err: Error, socket: TLSSocket) =>
      log.warn({ err: err.message, remoteAddress: socket.remoteAddress }, 'TLS handshake failed'),
    )
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(listenError(err, config.host, config.port))
    server.once('error', onError)
    server.listen(config.port, config.host, () => {
      server.off('error', onError)
      resolve()
    })
  })
  server.on('error', (err) => log.error({ err }, 'listener error'))
  const bound = server.address() as AddressInfo
  name = `${config.type}://${config.host}:${bound.port}`
  log.info({ address: name, allowAnonymous }, 'listening')

  let closing: Promise<void> | undefined
  return {
    address: { host: config.host, port: bound.port },
    name,
    close() {
      closing ??= new Promise<void>((resolve) => {
        wss?.close()
        server.close(() => resolve())
        // server.close waits for open connections; the broker has already said goodbye to its clients.
        for (const s of sockets.keys()) s.destroy()
      })
      return closing
    },
    async reloadCertificates() {
      if (!secure) return
      const files = await readTlsFiles(config, name)
      ;(server as unknown as { setSecureContext(o: TlsOptions): void }).setSecureContext({
        ...files,
        minVersion: tlsOptions!.minVersion,
      })
      log.info('certificates reloaded')
    },
  }
}
