/**
 * Starts the system under test (edgebridge, or the plain-aedes reference) in a child process and
 * talks to it over IPC (sut-child.ts).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { EdgebridgeConfig } from '../../src/config/types.js'
import type { SutReply, SutRequest, SutStats } from './sut-child.js'

export interface Sut {
  readonly port: number
  /** The HTTP listener's port (edgebridge with http.enabled). */
  readonly httpPort: number | undefined
  readonly pid: number
  stats(): Promise<SutStats>
  /** Safe to call twice. */
  stop(): Promise<void>
}

export type SutSpec = { kind: 'edgebridge'; config: EdgebridgeConfig } | { kind: 'aedes' }

/** How the child runs when not the way the bench itself runs (from source under tsx, or built). */
export interface SutRuntime {
  /** The sut-child module to fork (the compiled one, for a figure of the daemon as shipped). */
  childPath: string
  /** Node options for the child instead of the bench's own (which may load tsx). */
  execArgv: string[]
}

const START_TIMEOUT_MS = 60_000 // 60 s: a Kafka backend's first metadata round trip can be slow

function childPath(): string {
  // Run from source (tsx) the sibling is .ts; built into dist/ it is .js.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
  return fileURLToPath(new URL(`./sut-child${ext}`, import.meta.url))
}

/**
 * EDGEBRIDGE_BENCH_CPU_PROF=<dir>: the system under test writes a V8 CPU profile there when it stops
 * (one `.cpuprofile` per run, for `node bench/lib/profile-top.ts` or Chrome's DevTools).
 */
function cpuProfileArgs(): string[] {
  const dir = process.env.EDGEBRIDGE_BENCH_CPU_PROF
  return dir === undefined || dir === '' ? [] : ['--cpu-prof', '--cpu-prof-dir', dir]
}

export async function startSut(spec: SutSpec, runtime?: SutRuntime): Promise<Sut> {
  const child: ChildProcess = fork(runtime?.childPath ?? childPath(), [], {
    // --expose-gc: memory figures are taken after a full collection, not whenever V8 last ran one.
    execArgv: [...(runtime?.execArgv ?? process.execArgv), '--expose-gc', ...cpuProfileArgs()],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const replies: SutReply[] = []
  let waiting: ((r: SutReply) => void) | undefined
  child.on('message', (m: SutReply) => {
    if (waiting !== undefined) {
      const w = waiting
      waiting = undefined
      w(m)
    } else replies.push(m)
  })
  let exited = false
  child.once('exit', () => {
    exited = true
    waiting?.({ op: 'error', message: 'the system under test exited' })
  })
  const request = (req: SutRequest, timeoutMs = START_TIMEOUT_MS): Promise<SutReply> =>
    new Promise((resolve, reject) => {
      if (exited) {
        reject(new Error('the system under test exited'))
        return
      }
      const timer = setTimeout(
        () => reject(new Error(`no answer to ${req.op} within ${timeoutMs} ms`)),
        timeoutMs,
      )
      waiting = (r) => {
        clearTimeout(timer)
        resolve(r)
      }
      const queued = replies.shift()
      if (queued !== undefined) waiting(queued)
      child.send(req)
    })

  const startReq: SutRequest =
    spec.kind === 'edgebridge'
      ? { op: 'start', kind: 'edgebridge', config: spec.config }
      : { op: 'start', kind: 'aedes' }
  const started = await request(startReq)
  if (started.op !== 'started') {
    child.kill('SIGKILL')
    throw new Error(`starting ${spec.kind} failed: ${started.op === 'error' ? started.message : started.op}`)
  }
  let stopping: Promise<void> | undefined
  return {
    port: started.port,
    httpPort: started.httpPort,
    pid: child.pid ?? 0,
    stats: async () => {
      const r = await request({ op: 'stats' }, 10_000)
      if (r.op !== 'stats') throw new Error(`unexpected answer ${r.op}`)
      return r
    },
    stop: () =>
      (stopping ??= (async () => {
        if (exited) return
        const gone = new Promise<void>((res) => child.once('exit', () => res()))
        const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
        await request({ op: 'stop' }, 30_000).catch(() => child.kill('SIGKILL'))
        await gone
        clearTimeout(killer)
      })()),
  }
}
