/**
 * The system under test, in a process of its own so that it gets its own event loop (and core) and
 * its memory can be measured apart from the load generator. Driven over the IPC channel by sut.ts:
 *
 *   parent -> { op: 'start', kind: 'edgebridge', config } | { op: 'start', kind: 'aedes' }
 *   child  -> { op: 'started', port } | { op: 'error', message }
 *   parent -> { op: 'stats' }   child -> { op: 'stats', rss, heapUsed, connected, spoolDepth, forwarded }
 *   parent -> { op: 'stop' }    child -> { op: 'stopped' } and exits
 *
 * `aedes` is the MQTT-ingress reference: a plain aedes broker with no hooks, which acknowledges and
 * delivers to its own subscribers and does nothing else. Each kind imports only what it runs: the
 * reference's memory must not include the daemon's modules (pino, ioredis, prom-client, ...).
 */
import { createServer, type AddressInfo, type Server } from 'node:net'
import type { Aedes } from 'aedes'
import type { EdgebridgeConfig } from '../../src/config/types.js'
import type { Daemon } from '../../src/daemon.js'

export type SutRequest =
  | { op: 'start'; kind: 'edgebridge'; config: EdgebridgeConfig }
  | { op: 'start'; kind: 'aedes' }
  | { op: 'stats' }
  | { op: 'stop' }

export interface SutStats {
  rss: number
  heapUsed: number
  connected: number
  spoolDepth: number
  forwarded: number
}

export type SutReply =
  | { op: 'started'; port: number; httpPort?: number }
  | { op: 'error'; message: string }
  | ({ op: 'stats' } & SutStats)
  | { op: 'stopped' }

let daemon: Daemon | undefined
let aedes: { broker: Aedes; server: Server } | undefined

const send = (reply: SutReply): void => {
  process.send?.(reply)
}

async function start(
  request: Extract<SutRequest, { op: 'start' }>,
): Promise<{ port: number; httpPort?: number }> {
  if (request.kind === 'edgebridge') {
    const [{ Daemon }, { silentLogger }] = await Promise.all([
      import('../../src/daemon.js'),
      import('../../src/observability/logger.js'),
    ])
    daemon = await Daemon.start(request.config, silentLogger())
    const port = daemon.ingress.ports()[0]
    if (port === undefined) throw new Error('the daemon opened no listener')
    return { port, httpPort: daemon.httpPort() }
  }
  const { Aedes } = await import('aedes')
  const broker = await Aedes.createBroker()
  const server = createServer(broker.handle)
  await new Promise<void>((res, rej) => {
    server.once('error', rej)
    server.listen(0, '127.0.0.1', () => res())
  })
  aedes = { broker, server }
  return { port: (server.address() as AddressInfo).port }
}

function stats(): SutStats {
  ;(globalThis as { gc?: () => void }).gc?.()
  const mem = process.memoryUsage()
  return {
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    connected: daemon?.ingress.counters().connected ?? aedes?.broker.connectedClients ?? 0,
    spoolDepth: daemon?.spool.stats().depthRecords ?? 0,
    forwarded: daemon?.forwarder.counters.forwarded ?? 0,
  }
}

async function stop(): Promise<void> {
  await daemon?.stop()
  if (aedes !== undefined) {
    const { broker, server } = aedes
    await new Promise<void>((res) => broker.close(() => res()))
    await new Promise<void>((res) => server.close(() => res()))
  }
}

process.on('message', (request: SutRequest) => {
  switch (request.op) {
    case 'start':
      start(request).then(
        (ports) => send({ op: 'started', ...ports }),
        (err: unknown) => send({ op: 'error', message: err instanceof Error ? err.message : String(err) }),
      )
      break
    case 'stats':
      send({ op: 'stats', ...stats() })
      break
    case 'stop':
      stop()
        .catch(() => undefined)
        .finally(() => {
          send({ op: 'stopped' })
          process.disconnect()
          // Open client sockets (a bench that never disconnected) must not keep this process alive.
          setTimeout(() => process.exit(0), 200).unref()
        })
      break
  }
})
// The parent went away (Ctrl-C, crash): nothing is left running.
process.on('disconnect', () => setTimeout(() => process.exit(0), 1000).unref())
