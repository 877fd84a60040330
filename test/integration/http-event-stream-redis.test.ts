/**
 * A status page that stops reading (a paused socket) never holds the message path nor memory without
 * bound: devices keep being acknowledged, the gateway drops the tail events the reader cannot take and
 * counts them (edgebridge_status_page_dropped_events_total), and when the reader reads again it is told
 * how many it missed. The speed side (a device at 2,000 msg/s with and without such a reader) is
 * measured in the benchmark, not here.
 */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { it } from 'node:test'
import { MAX_SOCKET_BUFFER_BYTES, TAIL_RING_EVENTS } from '../../src/http/event-stream.js'
import { startTestDaemon } from '../support/daemon-under-test.js'
import { uniqueName } from '../support/env.js'
import { connectDevice } from '../support/ingress.js'
import { scrape } from '../support/prometheus-text.js'
import { waitUntil } from '../support/wait-until.js'

it('http - a paused event-stream reader gets events dropped and counted; devices are acknowledged throughout', async (t) => {
  const { daemon, url } = await startTestDaemon({ core: { backend: 'redis' } })
  const port = daemon.httpPort()!
  const base = `http://127.0.0.1:${port}`
  const reader: Socket = connect(port, '127.0.0.1')
  t.after(() => reader.destroy())
  await new Promise<void>((resolve) => reader.once('connect', resolve))
  let received = ''
  reader.on('data', (d: Buffer) => (received += d.toString()))
  reader.write(`GET /events?filter=%23 HTTP/1.1\r\nHost: gw\r\n\r\n`)
  await waitUntil(() => received.includes('event: stats'), 10_000, 'the stream to start')
  reader.pause() // the page stops reading; the kernel buffers fill, then Node's

  const device = await connectDevice(url, uniqueName('flood'))
  t.after(() => device.endAsync())
  const payload = 'p'.repeat(250)
  let sent = 0
  await waitUntil(
    async () => {
      // QoS 1: each publish resolves only on its PUBACK, so a stalled message path would stall here.
      const batch = Array.from({ length: 500 }, (_, i) =>
        device.publishAsync(`flood/${sent + i}`, payload, { qos: 1 }),
      )
      await Promise.all(batch)
      sent += batch.length
      // Until the kernel's socket buffers are full and Node's side holds bytes for the reader.
      const now = await scrape(base)
      return (
        now.get('edgebridge_status_page_dropped_events_total') > 0 &&
        now.get('edgebridge_status_page_buffered_bytes') > 0
      )
    },
    120_000,
    "the reader's socket full and tail events dropped",
  )
  // More publishes while it stays paused: what the gateway holds for it stays bounded.
  for (let round = 0; round < 4; round++) {
    await Promise.all(
      Array.from({ length: 500 }, (_, i) => device.publishAsync(`flood/more/${i}`, payload, { qos: 1 })),
    )
    sent += 500
    // Let a few flushes of the tail go by (every 250 ms): each would add to the socket's buffer.
    await new Promise((resolve) => setTimeout(resolve, 600))
    const s = await scrape(base)
    assert.ok(s.get('edgebridge_status_page_buffered_events') <= TAIL_RING_EVENTS)
    // One flush (at most a full ring of previews) may land above the socket limit, never more.
    assert.ok(
      s.get('edgebridge_status_page_buffered_bytes') <= MAX_SOCKET_BUFFER_BYTES + TAIL_RING_EVENTS * 1024,
      `buffered ${s.get('edgebridge_status_page_buffered_bytes')} bytes`,
    )
  }
  const s = await scrape(base)
  assert.equal(s.get('edgebridge_device_publishes_received_total', { qos: '1' }), sent)
  assert.equal(s.get('edgebridge_status_page_readers'), 1)

  // Reading again, the page is told how many events it missed.
  received = ''
  reader.resume()
  await waitUntil(
    () => /"tailDropped":[1-9]/.test(received),
    20_000,
    'a stats event naming the dropped count',
  )
})
