/**
 * The whole daemon as a child process (`node --import tsx src/main.ts run`), configured only by
 * environment variables, for tests that kill it the way a power cut or the OOM killer would.
 *
 * One DaemonProcess is one installation: the same environment, the same MQTT port and the same data
 * directory on every start(), so a restart after kill('SIGKILL') recovers the spool the killed one left.
 * Readiness is the daemon's own "edgebridge ready" log line (JSON on stdout). Every line the daemon
 * printed, across all its lives, is kept for assertions. A child still running when the test process
 * exits is killed, so a failed test never leaves a daemon behind.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './server-process.js'

/** How long a start may take to print "edgebridge ready": a cold tsx compile on a busy CI machine. */
const READY_TIMEOUT_MS = 60_000 // 60 s
/** How long stop() waits for a clean exit after SIGTERM before it kills and fails. */
const STOP_TIMEOUT_MS = 30_000 // 30 s
/** Lines of stderr kept for error messages. */
const STDERR_TAIL_CHARS = 8_000

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..')

const alive = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of alive) child.kill('SIGKILL')
})

export interface DaemonProcessOptions {
  /** EDGEBRIDGE_* variables (the MQTT host and port are added unless given). */
  env: Record<string, string>
  /** MQTT port; default: a free port chosen once and kept for every start. */
  mqttPort?: number
  /** Name for error messages. */
  name?: string
}

/** One parsed JSON log line of the daemon (lines that are not JSON are kept as `{ msg: <line> }`). */
export type LogLine = Record<string, unknown> & { msg?: string; level?: string | number }

export class DaemonProcess {
  /** Every stdout line of every start, parsed. */
  readonly lines: LogLine[] = []
  private child: ChildProcess | null = null
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null
  private stderrTail = ''
  private starts = 0

  private constructor(
    readonly mqttPort: number,
    private readonly env: Record<string, string>,
    readonly name: string,
  ) {}

  /** Creates the installation and starts the daemon once (resolves when it is ready). */
  static async start(options: DaemonProcessOptions): Promise<DaemonProcess> {
    const port = options.mqttPort ?? (await freePort())
    const daemon = new DaemonProcess(
      port,
      {
        EDGEBRIDGE_MQTT_HOST: '127.0.0.1',
        EDGEBRIDGE_MQTT_PORT: String(port),
        EDGEBRIDGE_HTTP_PORT: '0',
        ...options.env,
      },
      options.name ?? 'edgebridge',
    )
    await daemon.start()
    return daemon
  }

  get running(): boolean {
    return this.child !== null
  }

  /** How many times the daemon was started. */
  get startCount(): number {
    return this.starts
  }

  /** Starts the daemon (again) and resolves once it logged "edgebridge ready". */
  async start(): Promise<void> {
    if (this.child !== null) throw new Error(`${this.name} is already running`)
    // The parent's own EDGEBRIDGE_* / MSIGHT_* variables (the test servers' addresses) must not leak
    // into the daemon's configuration: only what the test passes counts.
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('EDGEBRIDGE_') && !k.startsWith('MSIGHT_')),
    )
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'run'], {
      cwd: repoRoot,
      env: { ...inherited, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.starts++
    this.child = child
    alive.add(child)
    this.exited = new Promise((res) => {
      child.once('exit', (code, signal) => {
        alive.delete(child)
        if (this.child === child) this.child = null
        res({ code, signal })
      })
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS)
    })

    let markReady: () => void = () => undefined
    const ready = new Promise<void>((res) => (markReady = res))
    const stdout = createInterface({ input: child.stdout! })
    stdout.on('line', (line) => {
      const parsed = parseLine(line)
      this.lines.push(parsed)
      if (parsed.msg === 'edgebridge ready') markReady()
    })

    let timer: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      ready.then(() => 'ready' as const),
      this.exited.then(() => 'exited' as const),
      new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), READY_TIMEOUT_MS))),
    ])
    clearTimeout(timer)
    if (outcome === 'ready') return
    if (outcome === 'timeout') await this.kill()
    throw new Error(
      `${this.name} did not become ready (${outcome === 'timeout' ? `no "edgebridge ready" within ${READY_TIMEOUT_MS} ms` : 'it exited'})\n` +
        `stderr: ${this.stderrTail}\nlast log lines:\n${this.tail(20)}`,
    )
  }

  /** Sends `signal` (SIGKILL: a crash) and waits until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child
    const exited = this.exited
    if (child === null || exited === null) return
    child.kill(signal)
    await exited
  }

  /** Sends `signal` and returns at once (SIGHUP: the daemon reloads certificates, passwords and ACL). */
  signal(signal: NodeJS.Signals): void {
    if (this.child === null) throw new Error(`${this.name} is not running`)
    this.child.kill(signal)
  }

  /** Resolves once a log line whose msg contains `text` is among the lines after the first `since`. */
  async waitForLine(text: string, since: number, timeoutMs: number): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const line = this.lines.slice(since).find((l) => typeof l.msg === 'string' && l.msg.includes(text))
      if (line !== undefined) return line
      if (Date.now() > deadline) {
        throw new Error(`${this.name} did not log "${text}" within ${timeoutMs} ms\n${this.tail(20)}`)
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  /**
   * A clean shutdown: SIGTERM, then the exit code, which must be 0 (the daemon drained what it could
   * and closed its spool). Throws with the daemon's last words otherwise.
   */
  async stop(): Promise<void> {
    const child = this.child
    const exited = this.exited
    if (child === null || exited === null) return
    child.kill('SIGTERM')
    let timer: NodeJS.Timeout | undefined
    const result = await Promise.race([
      exited,
      new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), STOP_TIMEOUT_MS))),
    ])
    clearTimeout(timer)
    if (result === 'timeout') {
      await this.kill()
      throw new Error(`${this.name} did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\n${this.tail(20)}`)
    }
    if (result.code !== 0) {
      throw new Error(
        `${this.name} exited with ${result.code ?? result.signal} after SIGTERM\nstderr: ${this.stderrTail}\n${this.tail(20)}`,
      )
    }
  }

  /** Kills the daemon if it still runs; for after() hooks. Safe to call twice. */
  async close(): Promise<void> {
    await this.kill()
  }

  /** Log lines whose msg contains `text`. */
  find(text: string): LogLine[] {
    return this.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes(text))
  }

  /** The last `n` log lines as text, for failure messages. */
  tail(n: number): string {
    return this.lines
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join('\n')
  }
}

function parseLine(line: string): LogLine {
  try {
    const parsed: unknown = JSON.parse(line)
    if (typeof parsed === 'object' && parsed !== null) return parsed as LogLine
  } catch {
    // not JSON: keep the text
  }
  return { msg: line }
}
