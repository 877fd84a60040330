/**
 * pino JSON to stdout: journald and container runtimes collect stdout, so the daemon never writes
 * log files of its own. One child logger per component (`{ component: 'spool' }`); an error is
 * logged once, where it is handled.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

export function createRootLogger(
  level: LevelWithSilent = 'info',
  destination?: pino.DestinationStream,
): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  )
}

/** The logger each component logger was made from, so a component can be named anew, not twice. */
const parents = new WeakMap<Logger, Logger>()

/**
 * The logger of `component`: each line names it once. pino's child bindings add up, so a child of a
 * child that both bind `component` would print the key twice; instead, asking again for the same
 * component returns the logger as it is, and asking for another one (a backend's downlink subscriber)
 * binds it on the logger the first component logger was made from.
 */
export function componentLogger(logger: Logger, component: string): Logger {
  const current = logger.bindings().component as unknown
  if (current === component) return logger
  const base = current === undefined ? logger : parents.get(logger)
  if (base === undefined) return logger.child({ component })
  const child = base.child({ component })
  parents.set(child, base)
  return child
}

/** A logger that writes nothing, for unit tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
