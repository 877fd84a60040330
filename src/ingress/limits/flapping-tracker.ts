/**
 * Connect-flapping detection: a client id or address that connects more than `maxConnects` times
 * within `windowMs` is refused for `banMs`. A device stuck in a reconnect loop (bad firmware, a
 * duplicate client id kicking its twin out) otherwise costs a TLS handshake, a password check and
 * a session takeover each time, and takes its twin down with it.
 */
export interface FlappingOptions {
  /** 0 = off. */
  maxConnects: number
  windowMs: number
  banMs: number
}

interface Entry {
  times: number[]
  bannedUntil: number
}

const SWEEP_EVERY = 1024 // records between sweeps of idle keys

export class FlappingTracker {
  private readonly entries = new Map<string, Entry>()
  private recordsSinceSweep = 0

  constructor(private readonly options: FlappingOptions) {}

  get enabled(): boolean {
    return this.options.maxConnects > 0
  }

  isBanned(key: string, now: number): boolean {
    const e = this.entries.get(key)
    return e !== undefined && e.bannedUntil > now
  }

  /** Records one connect; true when the key is (now) banned and this connect must be refused. */
  record(key: string, now: number): boolean {
    if (!this.enabled) return false
    if (++this.recordsSinceSweep >= SWEEP_EVERY) this.sweep(now)
    let e = this.entries.get(key)
    if (!e) {
      e = { times: [], bannedUntil: 0 }
      this.entries.set(key, e)
    }
    if (e.bannedUntil > now) return true
    const from = now - this.options.windowMs
    e.times = e.times.filter((t) => t > from)
    e.times.push(now)
    if (e.times.length > this.options.maxConnects) {
      e.bannedUntil = now + this.options.banMs
      e.times = []
      return true
    }
    return false
  }

  /** Keys with a ban in force (for logs and metrics). */
  bannedCount(now: number): number {
    let n = 0
    for (const e of this.entries.values()) if (e.bannedUntil > now) n++
    return n
  }

  private sweep(now: number): void {
    this.recordsSinceSweep = 0
    const from = now - this.options.windowMs
    for (const [key, e] of this.entries) {
      if (e.bannedUntil <= now && e.times.every((t) => t <= from)) this.entries.delete(key)
    }
  }
}
