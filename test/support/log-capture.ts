/** A pino logger whose JSON lines are kept in memory, so a test can assert what the daemon said. */
import { Writable } from 'node:stream'
import { pino } from 'pino'
import type { Logger } from '../../src/observability/logger.js'

export interface CapturedLog {
  logger: Logger
  lines: Array<Record<string, unknown>>
  /** Lines whose msg or any field contains `text`. */
  find(text: string): Array<Record<string, unknown>>
}

export function captureLog(level: pino.LevelWithSilent = 'debug'): CapturedLog {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line))
      done()
    },
  })
  const logger = pino({ level }, sink)
  return { logger, lines, find: (text) => lines.filter((l) => JSON.stringify(l).includes(text)) }
}
