/**
 * What a failed segment write does to the appends caught in it. A full disk (ENOSPC, EDQUOT) is
 * "full", never a crash; any other error (EIO) refuses the waiting appends and is retried.
 *
 * - Full disk, `drop-newest`: the appends caught in the write are rejected with SpoolFullError and
 *   their records discarded (counted). Their seqs were assigned and are never reused, so the core
 *   sees that range missing, and the loss ledger explains it.
 * - Full disk, `block` or `drop-oldest`: the records stay queued and the write is retried when a
 *   commit deletes segments or after diskFullRetryMs; drop-oldest drops whole segments meanwhile.
 * - Any other error: every waiting durable append is rejected with SPOOL_IO, so the device gets no
 *   PUBACK; the records stay queued and the write is retried (they may still be delivered: a
 *   duplicate when the device sends again, never a loss).
 */
import { EdgebridgeError, SpoolFullError } from '../errors.js'
import type { Admission } from './admission.js'
import type { DropReporter } from './drop-reporter.js'
import type { WriteEntry, WriteFailureAction } from './segment-writer.js'
import type { WhenFull } from './spool.js'

export interface WriteFailureContext {
  whenFull: WhenFull
  admission: Admission
  drops: DropReporter
  logIoError(err: unknown, message: string): void
}

export function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOSPC' || code === 'EDQUOT'
}

export function applyWriteFailurePolicy(
  err: unknown,
  queued: WriteEntry[],
  ctx: WriteFailureContext,
): WriteFailureAction {
  if (isNoSpace(err)) {
    if (ctx.whenFull === 'drop-newest') {
      let bytes = 0
      for (const e of queued) {
        bytes += e.frame.length
        e.waiter?.reject(
          new SpoolFullError('spool full: no space left on the device; record rejected', { cause: err }),
        )
      }
      ctx.admission.removed(queued.length, bytes)
      ctx.drops.drop('drop-newest', queued.length, {
        reason: 'no space left on device',
        fromSeq: queued[0]?.seq,
        toSeq: queued[queued.length - 1]?.seq,
      })
      return 'discard'
    }
    ctx.logIoError(err, 'spool: no space left on the device; holding appends until space is freed')
    ctx.admission.wake()
    return 'retry'
  }
  ctx.logIoError(err, 'spool write failed; waiting appends are refused and the write is retried')
  const ioErr = new EdgebridgeError('SPOOL_IO', `spool write failed: ${(err as Error).message}`, {
    cause: err,
    retriable: true,
  })
  for (const e of queued) {
    e.waiter?.reject(ioErr)
    delete e.waiter
  }
  return 'retry'
}
