/**
 * The status page's live data: one Server-Sent Events stream per page (`GET /events?filter=<MQTT
 * filter>`), carrying a `stats` event every second (the summary, observability/gateway-status.ts) and
 * a `msg` event per device publish matching the page's topic filter (the live tail).
 *
 * The tail must never slow the message path nor hold memory without bound, whatever the reader does:
 * - a publish only goes into the reader's own ring of at most TAIL_RING_EVENTS previews (the topic,
 *   at most PREVIEW_BYTES of payload), dropping the oldest when it is full;
 * - the ring is written out every FLUSH_MS, and not at all while the socket still holds more than
 *   MAX_SOCKET_BUFFER_BYTES unsent (a paused or slow reader): its ring fills and drops instead;
 * - every dropped event is counted and the count goes to the page with each `stats` event, so the
 *   page says how many it missed.
 * So one reader costs at most the ring plus the socket's buffer, and a publish costs a filter match and
 * a copy of the preview, only while a page is open. At most MAX_READERS pages at once (503 beyond).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { DeviceActivity, DevicePublish } from '../observability/device-activity.js'
import { compileTopicFilter, topicFilterProblem } from '../routing/topic-filter.js'
import { plain } from './http-listener.js'

/** Previews waiting for one reader; the oldest is dropped beyond this. */
export const TAIL_RING_EVENTS = 200
/** Payload bytes shown per message. */
export const PREVIEW_BYTES = 256
/** Unsent bytes in a reader's socket above which nothing more is written to it (64 KiB). */
export const MAX_SOCKET_BUFFER_BYTES = 64 * 1024
/** Pages open at once. */
export const MAX_READERS = 16
const FLUSH_MS = 250
const STATS_MS = 1000

/** One publish as the tail shows it. */
export interface TailEvent {
  at: number
  clientId: string
  topic: string
  qos: number
  retain: boolean
  bytes: number
  /** `text` when the preview is printable UTF-8, else `hex`. */
  encoding: 'text' | 'hex'
  preview: string
  truncated: boolean
}

export function tailEvent(p: DevicePublish): TailEvent {
  const head = p.payload.subarray(0, PREVIEW_BYTES)
  const text = head.toString('utf8')
  const printable = !text.includes('\ufffd') && !hasControlCharacters(text)
  return {
    at: p.at,
    clientId: p.clientId,
    topic: p.topic,
    qos: p.qos,
    retain: p.retain,
    bytes: p.payload.length,
    encoding: printable ? 'text' : 'hex',
    preview: printable ? text : head.toString('hex'),
    truncated: p.payload.length > PREVIEW_BYTES,
  }
}

/** C0 controls other than tab, newline and carriage return, and DEL: binary, shown as hex. */
function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true
  }
  return false
}

interface Reader {
  res: ServerResponse
  ring: TailEvent[]
  dropped: number
  untap: () => void
}

export class EventStreams {
  private readonly readers = new Set<Reader>()
  private readonly flushTimer: NodeJS.Timeout
  private readonly statsTimer: NodeJS.Timeout

  constructor(
    private readonly activity: DeviceActivity,
    private readonly stats: () => unknown,
  ) {
    this.flushTimer = setInterval(() => this.flushAll(), FLUSH_MS).unref()
    this.statsTimer = setInterval(() => this.sendStats(), STATS_MS).unref()
  }

  /** Readers open now (tests, metrics). */
  get size(): number {
    return this.readers.size
  }

  /** Events dropped for slow readers since start (edgebridge_status_page_dropped_events_total). */
  droppedTotal = 0

  /** Bytes waiting in the readers' sockets (Node's side) and events in their rings: the memory they hold. */
  buffered(): { bytes: number; events: number } {
    let bytes = 0
    let events = 0
    for (const r of this.readers) {
      bytes += r.res.writableLength
      events += r.ring.length
    }
    return { bytes, events }
  }

  readonly route = (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    const filter = url.searchParams.get('filter') || '#'
    const problem = topicFilterProblem(filter)
    if (problem !== undefined) return plain(res, 400, `filter ${JSON.stringify(filter)}: ${problem}\n`)
    // `check=1`: the page asks whether a filter is valid before it reconnects with it.
    if (url.searchParams.has('check')) return plain(res, 200, 'ok\n')
    if (this.readers.size >= MAX_READERS) {
      return plain(res, 503, `too many live pages open (${MAX_READERS}); close one and reload\n`)
    }
    const matcher = compileTopicFilter(filter)
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    })
    const reader: Reader = { res, ring: [], dropped: 0, untap: () => undefined }
    reader.untap = this.activity.tap((p) => {
      if (matcher.match(p.topic) === undefined) return
      if (reader.ring.length >= TAIL_RING_EVENTS) {
        reader.ring.shift()
        reader.dropped++
        this.droppedTotal++
      }
      reader.ring.push(tailEvent(p))
    })
    this.readers.add(reader)
    const close = () => {
      reader.untap()
      this.readers.delete(reader)
    }
    req.on('close', close)
    res.on('error', close)
    res.write(`retry: 2000\n\n`)
    this.sendStatsTo(reader)
  }

  close(): void {
    clearInterval(this.flushTimer)
    clearInterval(this.statsTimer)
    for (const r of this.readers) {
      r.untap()
      r.res.destroy()
    }
    this.readers.clear()
  }

  private flushAll(): void {
    for (const r of this.readers) {
      if (r.ring.length === 0) continue
      // A paused or slow reader: leave its ring to fill and drop, never the process's memory.
      if (r.res.writableLength > MAX_SOCKET_BUFFER_BYTES) continue
      const events = r.ring
      r.ring = []
      r.res.write(`event: msg\ndata: ${JSON.stringify(events)}\n\n`)
    }
  }

  private sendStats(): void {
    if (this.readers.size === 0) return
    for (const r of this.readers) this.sendStatsTo(r)
  }

  private sendStatsTo(r: Reader): void {
    if (r.res.writableLength > MAX_SOCKET_BUFFER_BYTES) {
      r.dropped++
      this.droppedTotal++
      return
    }
    r.res.write(
      `event: stats\ndata: ${JSON.stringify({ ...(this.stats() as object), tailDropped: r.dropped })}\n\n`,
    )
  }
}
