/** Open the spool the configuration asks for: the durable disk spool (recovered), or memory (lost on exit). */
import { join } from 'node:path'
import type { EdgebridgeConfig } from '../config/types.js'
import { componentLogger, type Logger } from '../observability/logger.js'
import { DiskSpool } from './disk-spool.js'
import { MemorySpool } from './memory-spool.js'
import type { DropListener, Spool, SpoolObserver } from './spool.js'

/** `onDrop`: told of every drop (the loss ledger); `observer`: of fsyncs and group commits (metrics). */
export async function openSpool(
  config: EdgebridgeConfig,
  logger: Logger,
  onDrop?: DropListener,
  observer?: SpoolObserver,
): Promise<Spool> {
  const log = componentLogger(logger, 'spool')
  const s = config.spool
  if (s.kind === 'memory') {
    log.warn('spool kind is memory: spooled messages are lost if the process exits')
    return new MemorySpool({ maxBytes: s.maxBytes, whenFull: s.whenFull, logger: log, onDrop })
  }
  return DiskSpool.open({
    dir: join(config.dataDir, 'spool'),
    segmentBytes: s.segmentBytes,
    maxBytes: s.maxBytes,
    whenFull: s.whenFull,
    fsync: s.fsync,
    fsyncIntervalMs: s.fsyncIntervalMs,
    logger: log,
    onDrop,
    observer,
  })
}
