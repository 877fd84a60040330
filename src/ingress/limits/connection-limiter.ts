/**
 * The global connection cap across all listeners (security.maxConnections), and the admission hook
 * listeners call on every accepted socket: over the cap, or from an address banned for flapping, the
 * socket is closed before the TLS or MQTT handshake. We close rather than answer CONNACK 3 (server
 * unavailable) because the cap exists to protect memory and file descriptors under a flood, and
 * reading a CONNECT (after a TLS handshake) is the work the cap is there to avoid; a device treats
 * both the same way, by retrying later.
 */
import type { Socket } from 'node:net'
import type { Logger } from '../../observability/logger.js'
import type { AdmitHook } from '../listeners/create-listener.js'
import { systemClock, type Clock } from './clock.js'
import type { FlappingTracker } from './flapping-tracker.js'

export class ConnectionLimiter {
  private count = 0

  /** `max` 0 = unlimited. */
  constructor(private readonly max: number) {}

  get current(): number {
    return this.count
  }

  /** A release function (call once, when the connection closes), or null when the cap is reached. */
  tryAcquire(): (() => void) | null {
    if (this.max > 0 && this.count >= this.max) return null
    this.count++
    let released = false
    return () => {
      if (!released) {
        released = true
        this.count--
      }
    }
  }
}

export interface AdmissionCounters {
  refusedOverCap: number
  refusedBanned: number
}

/** Builds the listeners' admit hook from the global limiter and the flapping tracker. */
export function createAdmitHook(
  limiter: ConnectionLimiter,
  flapping: FlappingTracker | null,
  logger: Logger,
  counters: AdmissionCounters = { refusedOverCap: 0, refusedBanned: 0 },
  clock: Clock = systemClock,
): AdmitHook {
  return (socket: Socket, listener: string) => {
    const address = socket.remoteAddress ?? ''
    if (flapping?.isBanned(`ip:${address}`, clock.now())) {
      counters.refusedBanned++
      logger.debug({ remoteAddress: address, listener }, 'connection refused: address banned for flapping')
      return null
    }
    const release = limiter.tryAcquire()
    if (!release) {
      counters.refusedOverCap++
      logger.warn(
        { remoteAddress: address, listener, current: limiter.current },
        'connection refused: global connection cap reached',
      )
    }
    return release
  }
}
