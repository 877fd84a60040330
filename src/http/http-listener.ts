/**
 * The operations HTTP listener: Node's own `http` (or `https`) module and a table from path to
 * handler, which is all a handful of read-only routes need.
 *
 * Answers: an unknown path 404, a method other than GET or HEAD 405 (with Allow), a request the
 * access rule refuses 401 (with WWW-Authenticate: Bearer), a handler that throws 500 (logged once).
 * Nothing a request does changes the gateway: every route only reads.
 */
import { readFileSync } from 'node:fs'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { HttpConfig } from '../config/types.js'
import { readSecretFile } from '../config/secret-files.js'
import { EdgebridgeError, errorMessage } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import { accessRule, type AccessRule } from './access.js'

/** A route: answers one GET path. `url` is parsed, for query parameters. */
export type RouteHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
) => void | Promise<void>

export class HttpListener {
  private closing: Promise<void> | undefined

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly streams: { close(): void } | undefined,
  ) {}

  /** Binds `config.host:config.port` and serves `routes`; rejects with HTTP_ADDRESS_IN_USE when taken. */
  static async start(
    config: HttpConfig,
    routes: Readonly<Record<string, RouteHandler>>,
    logger: Logger,
    /** Long-lived responses (the event streams), ended by close(). */
    streams?: { close(): void },
  ): Promise<HttpListener> {
    const token = config.tokenFile === '' ? undefined : readSecretFile(config.tokenFile, 'http.tokenFile')
    const access = accessRule(config, token)
    const handler = (req: IncomingMessage, res: ServerResponse) =>
      void serve(req, res, routes, access, logger)
    const server =
      config.tls.certFile === ''
        ? createHttpServer(handler)
        : createHttpsServer(
            {
              cert: readFileSync(config.tls.certFile),
              key: readFileSync(config.tls.keyFile),
              ...(config.tls.caFile === ''
                ? {}
                : // Asked for, checked per request (access.ts): /healthz must answer a probe without one.
                  { ca: readFileSync(config.tls.caFile), requestCert: true, rejectUnauthorized: false }),
            },
            handler,
          )
    // A paused event-stream reader must not keep the process from stopping (close() ends them).
    server.keepAliveTimeout = 5_000
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const where = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`
        reject(
          err.code === 'EADDRINUSE'
            ? new EdgebridgeError('HTTP_ADDRESS_IN_USE', `HTTP listener: ${where} is already in use`, {
                cause: err,
              })
            : new EdgebridgeError(
                'LISTEN_FAILED',
                `HTTP listener: cannot listen on ${where}: ${err.message}`,
                {
                  cause: err,
                },
              ),
        )
      })
      server.listen(config.port, config.host, () => resolve())
    })
    server.on('error', (err) => logger.error({ err }, 'HTTP listener error'))
    const port = (server.address() as AddressInfo).port
    logger.info(
      { address: `${config.tls.certFile === '' ? 'http' : 'https'}://${config.host}:${port}` },
      'HTTP listening',
    )
    return new HttpListener(server, port, streams)
  }

  /** Stops accepting and ends every open connection (event streams included). Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.streams?.close()
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
    return this.closing
  }
}

async function serve(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Readonly<Record<string, RouteHandler>>,
  access: AccessRule,
  logger: Logger,
): Promise<void> {
  let url: URL
  try {
    url = new URL(req.url ?? '/', 'http://gateway')
  } catch {
    return plain(res, 400, 'bad request target\n')
  }
  const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined
  if (route === undefined) return plain(res, 404, `no such path: ${url.pathname}\n`)
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD')
    return plain(res, 405, `${req.method ?? ''} is not allowed here: every path is read-only\n`)
  }
  if (!access.allows(req, url.pathname)) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="edgebridge"')
    return plain(
      res,
      401,
      'unauthorized: send Authorization: Bearer <token> (http.tokenFile) or a client certificate\n',
    )
  }
  try {
    await route(req, res, url)
  } catch (err) {
    logger.error({ err, path: url.pathname }, 'HTTP route failed')
    if (!res.headersSent) plain(res, 500, `internal error: ${errorMessage(err)}\n`)
    else res.destroy()
  }
}

export function plain(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' })
  res.end(body)
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' })
  res.end(JSON.stringify(body) + '\n')
}
