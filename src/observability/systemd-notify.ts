/**
 * Readiness and watchdog notifications for systemd (Type=notify, WatchdogSec=).
 *
 * Node cannot send to a unix datagram socket without a native addon, so this uses systemd's own
 * `systemd-notify` tool; the unit sets NotifyAccess=all so the helper's messages are accepted. With
 * no NOTIFY_SOCKET in the environment (not under systemd) every call is a no-op.
 */
import { execFile } from 'node:child_process'

export function notifySystemd(state: string): void {
  if (!process.env.NOTIFY_SOCKET) return
  execFile('systemd-notify', [`--pid=${process.pid}`, state], () => {
    // Best effort: a missing tool must not take the gateway down; systemd's timeouts will say so.
  })
}

/** Pings the watchdog at half the interval systemd asked for (WATCHDOG_USEC); stop() ends it. */
export function startWatchdog(): { stop(): void } {
  const usec = Number(process.env.WATCHDOG_USEC)
  if (!process.env.NOTIFY_SOCKET || !Number.isFinite(usec) || usec <= 0) return { stop: () => undefined }
  const timer = setInterval(() => notifySystemd('WATCHDOG=1'), Math.max(1000, usec / 2000))
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
