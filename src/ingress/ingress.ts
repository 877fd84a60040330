/**
 * Ingress: the embedded broker and its listeners, started and stopped as one.
 *
 * `start()` opens every listener or none: if one address is taken the ones already open are closed
 * and start() rejects with LISTEN_ADDRESS_IN_USE naming the address, so the daemon exits with one
 * clear line instead of running half-reachable.
 */
import net from 'node:net'
import type { Aedes } from 'aedes'
import type { EdgebridgeConfig, ListenerConfig } from '../config/types.js'
import { EdgebridgeError } from '../errors.js'
import type { Logger } from '../observability/logger.js'
import type { Spool } from '../spool/spool.js'
import { createBroker, type BrokerOptions, type ClientCloseCounters } from './broker.js'
import { PublishGate, type RouteLookup } from './publish-gate.js'

export interface OpenListener {
  /** host:port (or a URL for WebSocket listeners) actually bound: port 0 in config becomes a real one. */
  readonly address: string
  readonly port: number
  close(): Promise<void>
  reloadCertificates?(): void
}

export interface IngressOptions {
  config: EdgebridgeConfig
  spool: Spool
  router: RouteLookup
  logger: Logger
}

export class Ingress {
  private broker: Aedes | undefined
  private gate: PublishGate | undefined
  private closeCounters: ClientCloseCounters | undefined
  private listeners: OpenListener[] = []
  private closing: Promise<void> | undefined

  constructor(private readonly options: IngressOptions) {}

  async start(): Promise<void> {
    const { config, logger } = this.options
    this.gate = new PublishGate({
      spool: this.options.spool,
      router: this.options.router,
      gatewayId: config.gatewayId,
      logger,
    })
    const brokerOptions: BrokerOptions = {
      mqtt: config.mqtt,
      gatewayId: config.gatewayId,
      gate: this.gate,
      logger,
    }
    const created = await createBroker(brokerOptions)
    this.broker = created.broker
    this.closeCounters = created.counters
    try {
      for (const listener of effectiveListeners(config)) {
        const open = await listenTcp(listener, this.broker)
        this.listeners.push(open)
        logger.info({ address: open.address, type: listener.type }, 'MQTT listener open')
      }
    } catch (err) {
      await this.close()
      throw err
    }
  }

  /** Ports actually bound, in listener order (for tests and the log). */
  ports(): number[] {
    return this.listeners.map((l) => l.port)
  }

  counters(): {
    publish: PublishGate['counters'] | undefined
    clients: ClientCloseCounters | undefined
    connected: number
  } {
    return {
      publish: this.gate?.counters,
      clients: this.closeCounters,
      connected: this.broker?.connectedClients ?? 0,
    }
  }

  /** Core -> device: publish to the devices subscribed to `topic` (the downlink). */
  publishToDevices(topic: string, payload: Buffer, qos: 0 | 1 | 2 = 0, retain = false): Promise<void> {
    const broker = this.broker
    if (broker === undefined) return Promise.reject(new EdgebridgeError('ABORTED', 'ingress is not running'))
    return new Promise((resolve, reject) =>
      broker.publish({ cmd: 'publish', topic, payload, qos, retain, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      ),
    )
  }

  reloadCertificates(): void {
    for (const l of this.listeners) l.reloadCertificates?.()
  }

  /** Stop accepting: close listeners, then the broker (which disconnects clients). Safe twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // A server's close() completes only once its connections are gone, and closing the broker is
      // what disconnects them: stop accepting first, then close the broker, then wait for both.
      const listenersClosed = Promise.all(this.listeners.map((l) => l.close()))
      this.listeners = []
      const broker = this.broker
      if (broker !== undefined) await new Promise<void>((resolve) => broker.close(() => resolve()))
      await listenersClosed
    })()
    return this.closing
  }
}

/** With no `listeners` configured, one TCP listener on mqtt.host:mqtt.port. */
export function effectiveListeners(config: EdgebridgeConfig): ListenerConfig[] {
  if (config.listeners.length > 0) return config.listeners
  return [
    {
      type: 'tcp',
      host: config.mqtt.host,
      port: config.mqtt.port,
      path: '/mqtt',
      allowAnonymous: config.mqtt.allowAnonymous,
      maxConnections: 0,
      tls: {
        certFile: '',
        keyFile: '',
        caFile: '',
        requireCertificate: false,
        useIdentityAsUsername: false,
        minVersion: 'TLSv1.2',
      },
    },
  ]
}

function listenTcp(listener: ListenerConfig, broker: Aedes): Promise<OpenListener> {
  // Sockets that never completed CONNECT are not aedes clients, so broker.close() would not end them
  // and server.close() would wait for their connect timeout: keep track and end them on close.
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    broker.handle(socket)
  })
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${listener.host}:${listener.port}`
      if (err.code === 'EADDRINUSE') {
        reject(
          new EdgebridgeError(
            'LISTEN_ADDRESS_IN_USE',
            `${where} is already in use (is another MQTT broker running there?)`,
            { cause: err },
          ),
        )
      } else {
        reject(
          new EdgebridgeError('LISTEN_FAILED', `cannot listen on ${where}: ${err.message}`, { cause: err }),
        )
      }
    })
    server.listen(listener.port, listener.host, () => {
      const bound = server.address() as net.AddressInfo
      resolve({
        address: `${bound.address}:${bound.port}`,
        port: bound.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            setImmediate(() => {
              for (const socket of sockets) socket.destroy()
            })
          }),
      })
    })
  })
}
