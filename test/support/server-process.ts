/**
 * A server binary run as a child process on a fixed port, which tests can stop and start again (same port,
 * same arguments, so the same storage). Shared by redis-server.ts and nats-server.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, connect as netConnect } from 'node:net'
import { delimiter, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'

/** How long a freshly spawned server may take to answer on its port. */
const START_TIMEOUT_MS = 20_000
/** After SIGTERM, how long a server may take to exit before it gets SIGKILL. */
const STOP_GRACE_MS = 5_000
/** How long one probe waits for a server's first answer. */
const PROBE_TIMEOUT_MS = 1_000

/** Children still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** A port nothing listens on right now (the kernel picks it; we release it for the server to take). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/**
 * Connect to host:port, optionally write `hello`, and resolve with whatever the server says first
 * (or null when nothing listens or nothing comes back in time).
 */
export async function probe(host: string, port: number, hello?: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port })
    let done = false
    const finish = (answer: string | null) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolve(answer)
    }
    const timer = setTimeout(() => finish(null), PROBE_TIMEOUT_MS)
    socket.once('connect', () => {
      if (hello !== undefined) socket.write(hello)
    })
    socket.once('data', (chunk: Buffer) => finish(chunk.toString('latin1')))
    socket.once('error', () => finish(null))
    socket.once('close', () => finish(null))
  })
}

/** The absolute path of a server binary, also looking in sbin directories that a user's PATH may lack. */
export function findBinary(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin']
  for (const dir of dirs) {
    if (dir === '') continue
    const candidate = join(dir, name)
    if (existsSync(candidate)) return candidate
  }
  return null
}

export interface TestServer {
  /** redis://127.0.0.1:<port> */
  readonly url: string
  /** True when this helper started the server (false: one was already listening and is reused). */
  readonly started: boolean
  /** Stop it; for a reused server this does nothing. Safe twice. */
  stop(): Promise<void>
}

export interface RestartableTestServer extends TestServer {
  /** Start it again on the same port (after stop()). */
  start(): Promise<void>
  /** Stop for good and remove what it stored. Safe twice. */
  close(): Promise<void>
}

export interface ServerProcessOptions {
  /** For messages: "redis-server". */
  name: string
  binary: string
  args: string[]
  host: string
  port: number
  /** Resolves true once the server answers like itself. */
  isReady: () => Promise<boolean>
}

/** One server binary on one port; start() and stop() may be called again and again. */
export class ServerProcess {
  private child: ChildProcess | null = null
  private stderrTail = ''

  constructor(private readonly options: ServerProcessOptions) {}

  get running(): boolean {
    return this.child !== null
  }

  async start(): Promise<void> {
    if (this.child !== null) return
    const { name, binary, args } = this.options
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    this.child = child
    running.add(child)
    this.stderrTail = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4000)
    })
    let exited = false
    let spawnError: Error | null = null
    child.once('error', (err) => {
      spawnError = err
    })
    child.once('exit', () => {
      exited = true
      running.delete(child)
    })
    const deadline = Date.now() + START_TIMEOUT_MS
    while (!(await this.options.isReady())) {
      if (spawnError !== null || exited || Date.now() > deadline) {
        await this.stop()
        const why =
          spawnError !== null ? String(spawnError) : exited ? 'it exited' : 'it did not answer in time'
        throw new Error(`${name} on port ${this.options.port} did not start: ${why}\n${this.stderrTail}`)
      }
      await delay(50)
    }
  }

  /** Stop it: SIGTERM (a clean shutdown, SIGKILL after a grace period), or SIGKILL at once (a crash). */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (child === null) return
    this.child = null
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
      await exited
      clearTimeout(timer)
    }
    running.delete(child)
  }
}
