/**
 * A private redis-server (the `redis-server` binary on PATH) on a port chosen up front, started only
 * when asked: the replay scenario points edgebridge at the port while nothing listens there (the core
 * is down), builds a backlog, then brings the server up.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, type AddressInfo } from 'node:net'
import { Redis } from 'ioredis'
import { sleep } from './clock.js'

export interface PrivateRedis {
  url: string
  start(): Promise<void>
  /** Safe to call twice. */
  stop(): Promise<void>
}

export async function reservePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()))
  const port = (server.address() as AddressInfo).port
  await new Promise((res) => server.close(res))
  return port
}

export async function privateRedis(binary = 'redis-server'): Promise<PrivateRedis> {
  const port = await reservePort()
  const url = `redis://127.0.0.1:${port}`
  let child: ChildProcess | undefined
  const kill = (): void => {
    child?.kill('SIGKILL')
  }
  return {
    url,
    start: async () => {
      child = spawn(
        binary,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      )
      process.once('exit', kill)
      const failed = new Promise<never>((_, rej) => child!.once('error', rej))
      for (let i = 0; i < 100; i++) {
        const probe = new Redis(url, {
          lazyConnect: true,
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
        })
        try {
          await Promise.race([probe.connect().then(() => probe.ping()), failed])
          probe.disconnect()
          return
        } catch (err) {
          probe.disconnect()
          if (child.exitCode !== null || (err as NodeJS.ErrnoException).code === 'ENOENT') throw err
          await sleep(50)
        }
      }
      throw new Error(`redis-server on port ${port} did not answer`)
    },
    stop: async () => {
      const c = child
      child = undefined
      process.removeListener('exit', kill)
      if (c === undefined || c.exitCode !== null) return
      const gone = new Promise((res) => c.once('exit', res))
      c.kill('SIGTERM')
      await gone
    },
  }
}
