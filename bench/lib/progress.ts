/**
 * A progress bar while a run is going (cli-progress), only when stdout is a terminal: CI logs and
 * piped output get one line per phase instead.
 */
import cliProgress from 'cli-progress'

export interface Progress {
  phase(name: string, total: number): void
  update(done: number): void
  stop(): void
}

/** `bar` on a terminal, `lines` (one line per phase) in logs, `off` in tests. */
export function createProgress(mode: 'bar' | 'lines' | 'off'): Progress {
  if (mode === 'off') return { phase: () => undefined, update: () => undefined, stop: () => undefined }
  if (mode === 'lines') {
    return {
      phase: (name) => process.stdout.write(`  ${name}\n`),
      update: () => undefined,
      stop: () => undefined,
    }
  }
  const bar = new cliProgress.SingleBar(
    { format: '  {phase} [{bar}] {percentage}% | {value}/{total}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  )
  let running = false
  return {
    phase: (name, total) => {
      if (running) bar.stop()
      bar.start(total, 0, { phase: name.padEnd(36) })
      running = true
    },
    update: (done) => {
      if (running) bar.update(done)
    },
    stop: () => {
      if (running) bar.stop()
      running = false
    },
  }
}
