/**
 * The systemd watchdog's pings (WATCHDOG=1), sent only while the gateway really works:
 * - the event loop: the pings come from a timer on it, so a blocked loop sends none;
 * - the forwarder loop: a send or a commit that never settles (a wedged client, a hung disk) would
 *   leave the gateway accepting data it never forwards. `stalledForMs()` grows while the loop shows no
 *   sign of life (forwarder.ts); past `stallLimitMs` the pings stop, systemd's WatchdogSec runs out,
 *   and Restart=on-failure starts a fresh gateway, which recovers the spool and forwards again.
 * A core that is down is not a wedge: the retry wait polls, so the forwarder stays alive through an
 * outage of any length, and restarting would not bring the core back.
 */
import type { Logger } from './logger.js'

export interface WatchdogOptions {
  /** WatchdogSec in ms: pings go three times per interval, so one lost ping does not trip it. */
  intervalMs: number
  stallLimitMs: number
  forwarder: { stalledForMs(): number }
  ping: () => void
  logger: Logger
}

export function startWatchdog(o: WatchdogOptions): { stop(): void } {
  let withheld = false
  const tick = () => {
    const stalled = o.forwarder.stalledForMs()
    if (stalled <= o.stallLimitMs) {
      if (withheld) o.logger.info({ stalledMs: stalled }, 'forwarder alive again: watchdog pings resume')
      withheld = false
      o.ping()
      return
    }
    if (!withheld) {
      o.logger.error(
        { stalledMs: stalled, stallLimitMs: o.stallLimitMs },
        'the forwarder has shown no sign of life for too long: watchdog pings stop, so systemd restarts the gateway',
      )
    }
    withheld = true
  }
  tick()
  const timer = setInterval(tick, Math.max(100, o.intervalMs / 3))
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
