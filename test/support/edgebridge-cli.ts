/** The `edgebridge` command run as an operator runs it: a real child process, its exit code and output. */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

export interface CliOutcome {
  code: number | null
  stdout: string
  stderr: string
}

export function edgebridgeCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CliOutcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', ...args],
      {
        cwd: root,
        // A free HTTP port, so commands that run the daemon never contend for 18830.
        env: { ...process.env, EDGEBRIDGE_LOG_LEVEL: 'warn', EDGEBRIDGE_HTTP_PORT: '0', ...env },
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    )
  })
}
