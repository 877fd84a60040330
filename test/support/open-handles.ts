/**
 * Fails a test file that leaves something running once its tests are done. Loaded into every test
 * file's process by test/run-tests.ts (`--import`).
 *
 * `--test-force-exit` ends a file's process as soon as its tests and hooks are done, so one leaked
 * handle cannot hang the run; alone it would also hide the leak: a retry loop that ignores close(), a
 * client never ended, a daemon never stopped. Here the exit the test runner asks for is held until
 * what the file opened is closed again (sockets take a tick or two to finish closing), for at most
 * GRACE_MS; whatever is still open then is printed and the file fails with exit code 1, which
 * node's test runner reports as a failure of that file.
 *
 * "Opened by the file" is the active resources (the ones that keep node's event loop alive: sockets,
 * servers, child processes, ref'd timers, pending file system requests) beyond those the process had
 * before the file was loaded (its stdio pipes). An unref'd timer keeps nothing alive and is not counted.
 */
import { relative } from 'node:path'
import { activeResources, openedSince } from './active-resources.js'

/** How long the file's handles may take to finish closing after its last hook. */
const GRACE_MS = 2_000 // 2 s
const POLL_MS = 20

/** Set by node's test runner in each file's process; the runner's own process is left alone. */
const inTestFile = process.env.NODE_TEST_CONTEXT !== undefined

/** A line per open handle, to find the leak (node's own handle list; its shape is not a stable API). */
function describeHandles(): string[] {
  const getHandles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles
  if (typeof getHandles !== 'function') return []
  return getHandles.call(process).flatMap((h) => {
    const o = h as Record<string, unknown> & { constructor?: { name?: string } }
    const name = o.constructor?.name ?? typeof h
    if ([process.stdout, process.stderr].includes(h as never)) return []
    if (typeof o.remotePort === 'number') return `${name} to ${String(o.remoteAddress)}:${o.remotePort}`
    if (typeof o.spawnargs === 'object') return `${name} ${(o.spawnargs as string[]).join(' ')}`
    if (name === 'Timeout' && typeof o._onTimeout === 'function') {
      const fn = o._onTimeout as { name?: string; toString(): string }
      return `${name} ${fn.name || fn.toString().slice(0, 80).replace(/\s+/g, ' ')}`
    }
    if (typeof o.address === 'function') {
      try {
        return `${name} listening on ${JSON.stringify((o.address as () => unknown).call(o))}`
      } catch {
        return name
      }
    }
    return name
  })
}

if (inTestFile) {
  // Touch stdio first: they are opened lazily, and they are the runner's, not the file's.
  void process.stdout
  void process.stderr
  const baseline = activeResources()
  const file = relative(process.cwd(), process.argv[1] ?? '(unknown file)')
  const exit = process.exit.bind(process)
  let checking = false
  process.exit = ((code?: number | string | null) => {
    if (checking) return exit(code ?? undefined)
    checking = true
    if (code !== undefined && code !== null) process.exitCode = code
    const deadline = Date.now() + GRACE_MS
    const check = (): void => {
      const open = openedSince(baseline)
      if (open.length === 0) return exit()
      if (Date.now() < deadline) return void setTimeout(check, POLL_MS).unref()
      process.stderr.write(
        `open-handles: ${file} left open after its tests: ${open.join(', ')}\n` +
          describeHandles()
            .map((d) => `  ${d}\n`)
            .join(''),
      )
      process.exitCode = 1
      exit()
    }
    check()
  }) as typeof process.exit
}
