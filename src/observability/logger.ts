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

export function componentLogger(root: Logger, component: string): Logger {
  return root.child({ component })
}

/** A logger that writes nothing, for unit tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' })
}
