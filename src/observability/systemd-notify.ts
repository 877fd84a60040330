/**
 * Messages to systemd's notification socket (Type=notify, WatchdogSec=): READY=1, STATUS=,
 * WATCHDOG=1, STOPPING=1. With no NOTIFY_SOCKET in the environment (not under systemd) every call is
 * a no-op.
 *
 * Why the `systemd-notify` tool and not the `sd-notify` addon: Node cannot send to a unix datagram
 * socket by itself, and an addon is one more native module to build for every Node and every board
 * (better-sqlite3 is already one); the tool ships with systemd itself, wherever the unit runs. The
 * price is a known race: systemd attributes a message to a unit by the sender's cgroup, and a helper
 * that has already exited (and been reaped) when systemd reads its datagram may not be attributed, so
 * the message is dropped. `--pid` names our main PID in the message (MAINPID=), which is all an
 * unprivileged sender can do about it. So nothing here relies on one message arriving: READY=1 is sent
 * again with every STATUS= update (it is idempotent), and watchdog pings come three per WatchdogSec,
 * so one lost ping does not trip it. The unit sets NotifyAccess=all so the helper may send at all.
 */
import { execFile } from 'node:child_process'

export type Notify = (...assignments: string[]) => void

/** Sends `assignments` (e.g. 'READY=1', 'STATUS=...') as one message; best effort. */
export const notifySystemd: Notify = (...assignments) => {
  if (!process.env.NOTIFY_SOCKET) return
  execFile('systemd-notify', [`--pid=${process.pid}`, ...assignments], () => {
    // Best effort: a missing tool must not take the gateway down; systemd's timeouts will say so.
  })
}

/** The watchdog interval systemd asked for (WATCHDOG_USEC, for this PID), in ms; undefined when none. */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const usec = Number(env.WATCHDOG_USEC)
  if (!env.NOTIFY_SOCKET || !Number.isFinite(usec) || usec <= 0) return undefined
  // WATCHDOG_PID, when set, names the process the watchdog is meant for (not a child that inherited it).
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== String(process.pid)) return undefined
  return usec / 1000
}
