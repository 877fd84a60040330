/**
 * kafkajs logs through its own logCreator; this bridges it into the backend's pino logger.
 *
 * kafkajs is loud: it logs every failed request at ERROR, even when it retries and succeeds, and the
 * forwarder logs the send failure it finally gets. So kafkajs ERROR and WARN both become pino `warn`
 * (with kafkajs' namespace), INFO becomes `debug`, DEBUG becomes `trace`, and kafkajs is told to log
 * only WARN and up unless the logger itself is at debug or trace.
 */
import { logLevel, type logCreator, type LogEntry } from 'kafkajs'
import type { Logger } from '../../observability/logger.js'

/** Messages we expect and answer for ourselves: logged at debug, not warn. */
const EXPECTED = [
  // We limit the idempotent producer's retries on purpose: the forwarder resends the same batch, and
  // kafkajs rolls its sequence numbers back on failure, so the broker still drops duplicates.
  'Limiting retries for the idempotent producer',
]

export function kafkaLogLevel(logger: Logger): logLevel {
  if (logger.isLevelEnabled('trace')) return logLevel.DEBUG
  if (logger.isLevelEnabled('debug')) return logLevel.INFO
  return logLevel.WARN
}

export function kafkaLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, logger: _name, ...fields } = log
      const context = { kafkajs: namespace, ...fields }
      if (EXPECTED.some((m) => message.startsWith(m))) {
        logger.debug(context, message)
        return
      }
      switch (level) {
        case logLevel.ERROR:
        case logLevel.WARN:
          logger.warn(context, message)
          break
        case logLevel.INFO:
          logger.debug(context, message)
          break
        default:
          logger.trace(context, message)
      }
    }
}
