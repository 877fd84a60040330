import * as f from '../formats.js'
import { leaf, MiB, storageKind, type Section } from './leaf.js'

export const spoolSection: Section = {
  kind: storageKind(
    '`disk` keeps messages across restarts and power loss; `memory` loses them on exit (tests, or data that may be lost).',
  ),
  fsync: leaf({
    doc: 'When appends reach the disk before a device is acknowledged: `always` (each group commit is fsynced: nothing acknowledged is lost on power failure), `interval` (every fsyncIntervalMs: a power loss can lose that much acknowledged data), `never` (the OS decides).',
    format: f.oneOf(['always', 'interval', 'never']),
    default: 'always',
  }),
  fsyncIntervalMs: leaf({
    doc: 'With fsync = interval, how often to fsync.',
    format: f.durationMs,
    default: 100,
  }),
  segmentBytes: leaf({
    doc: 'Size at which the spool starts a new segment file; whole segments are deleted once forwarded.',
    format: f.positiveBytes,
    default: 64 * MiB,
  }),
  maxBytes: leaf({
    doc: 'Most bytes the spool may hold; then `whenFull` applies. Keep it below the free space of dataDir.',
    format: f.positiveBytes,
    default: 1024 * MiB,
  }),
  whenFull: leaf({
    doc: 'When the spool is full: `block` (stop acknowledging: devices slow down and keep their data), `drop-oldest` or `drop-newest`. Every drop is counted and logged.',
    format: f.oneOf(['block', 'drop-oldest', 'drop-newest']),
    default: 'block',
  }),
}
