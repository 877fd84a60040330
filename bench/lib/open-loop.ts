/**
 * Open-loop load: messages are issued on a fixed schedule whatever the system under test does.
 * Message i is due at start + i / rate. A 1 ms timer wakes up and issues every message whose time has
 * passed (catching up after a stall in a burst), and never waits for an earlier message's
 * acknowledgement. Each message carries its *scheduled* time, so a stall anywhere (the broker, the
 * core, this process's own event loop) is charged to every message that should have been sent
 * during it: there is no coordinated omission.
 */
import { nowMs } from './clock.js'

export interface OpenLoopOptions {
  /** Messages per second, across all connections. */
  ratePerSecond: number
  durationMs: number
  /**
   * Issues the messages with sequence numbers [from, to), all due by now. `scheduledMs(i)` gives the
   * scheduled time of message i. Must not block waiting for acknowledgements.
   */
  issue(from: number, to: number, scheduledMs: (seq: number) => number): void
  /** Called about every 100 ms with the number issued so far. */
  onProgress?(issued: number, total: number): void
  signal?: AbortSignal
}

export interface OpenLoopResult {
  issued: number
  startedAt: number
  /** Greatest lag of an issue behind its schedule, in ms: how far the scheduler itself fell behind. */
  maxSchedulerLagMs: number
}

const TICK_MS = 1

export function totalMessages(ratePerSecond: number, durationMs: number): number {
  return Math.max(1, Math.round((ratePerSecond * durationMs) / 1000))
}

export function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const total = totalMessages(options.ratePerSecond, options.durationMs)
  const intervalMs = 1000 / options.ratePerSecond
  const startedAt = nowMs()
  const scheduledMs = (seq: number): number => startedAt + seq * intervalMs
  let next = 0
  let maxLag = 0
  let lastProgress = 0
  return new Promise((resolve) => {
    const tick = (): void => {
      const now = nowMs()
      if (options.signal?.aborted === true) {
        // Stopped early (e.g. a replay's backlog drained): what is not yet due is never issued.
        options.onProgress?.(next, total)
        resolve({ issued: next, startedAt, maxSchedulerLagMs: maxLag })
        return
      }
      const due = Math.min(total, Math.floor((now - startedAt) / intervalMs) + 1)
      if (due > next) {
        maxLag = Math.max(maxLag, now - scheduledMs(next))
        options.issue(next, due, scheduledMs)
        next = due
      }
      if (now - lastProgress >= 100) {
        lastProgress = now
        options.onProgress?.(next, total)
      }
      if (next >= total) {
        options.onProgress?.(next, total)
        resolve({ issued: next, startedAt, maxSchedulerLagMs: maxLag })
        return
      }
      setTimeout(tick, TICK_MS)
    }
    tick()
  })
}
