/**
 * The operator's view through real HTTP against the running daemon (a child process, disk spool,
 * redis-streams on a private redis-server the test stops and starts): /healthz, /readyz and /metrics
 * while devices publish, while the core is down, and after; bad requests; and the accounting identity
 * (DESIGN.md invariant 8) from the scraped numbers, with drop-oldest drops (records in flight among
 * them) and dead letters.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Redis } from 'ioredis'
import { connectAsync, type MqttClient } from 'mqtt'
import { DaemonProcess } from '../support/daemon-process.js'
import { edgebridgeCli } from '../support/edgebridge-cli.js'
import { uniqueName } from '../support/env.js'
import { httpBaseOf, scrape, type Scrape } from '../support/prometheus-text.js'
import type { RestartableTestServer } from '../support/server-process.js'
import { startRedisServer } from '../support/servers.js'
import { tempDataDir } from '../crash/scenario.js'
import { waitUntil } from '../support/wait-until.js'

/** Every family the issue asks for; a scrape must declare each. */
const FAMILIES = [
  'edgebridge_info',
  'edgebridge_devices_connected',
  'edgebridge_device_connections_accepted_total',
  'edgebridge_device_connections_refused_total',
  'edgebridge_auth_failures_total',
  'edgebridge_device_publishes_received_total',
  'edgebridge_publishes_refused_total',
  'edgebridge_routed_publishes_total',
  'edgebridge_spool_depth_records',
  'edgebridge_spool_depth_bytes',
  'edgebridge_spool_capacity_bytes',
  'edgebridge_spool_oldest_record_age_seconds',
  'edgebridge_spool_appended_records_total',
  'edgebridge_spool_fsync_duration_seconds',
  'edgebridge_spool_group_commit_records',
  'edgebridge_spool_recovered_records',
  'edgebridge_spool_recovery_duration_seconds',
  'edgebridge_spool_dropped_records_total',
  'edgebridge_forwarded_records_total',
  'edgebridge_forwarded_batches_total',
  'edgebridge_forwarder_send_duration_seconds',
  'edgebridge_forwarder_send_failures_total',
  'edgebridge_core_connected',
  'edgebridge_forwarder_last_confirmed_timestamp_seconds',
  'edgebridge_forwarder_end_to_end_age_seconds',
  'edgebridge_dead_lettered_records_total',
  'edgebridge_downlink_received_total',
  'edgebridge_downlink_delivered_total',
  'edgebridge_downlink_failed_total',
  // prom-client's defaults
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'nodejs_eventloop_lag_seconds',
]

/** Both sides of the identity, from one scrape. */
function identity(s: Scrape): { admitted: number; accounted: number } {
  const admitted =
    s.get('edgebridge_spool_recovered_records') + s.get('edgebridge_spool_appended_records_total')
  const accounted =
    s.get('edgebridge_forwarded_records_total') +
    s.get('edgebridge_dead_lettered_records_total') +
    s.get('edgebridge_spool_depth_records') +
    s.get('edgebridge_spool_dropped_records_total', { reason: 'drop-oldest' }) +
    s.get('edgebridge_spool_dropped_records_total', { reason: 'corrupt' })
  return { admitted, accounted }
}

describe('http - metrics, health and readiness of a running daemon (redis-streams)', () => {
  let redis: RestartableTestServer
  let daemon: DaemonProcess
  let device: MqttClient
  let base: string
  let data: Awaited<ReturnType<typeof tempDataDir>>
  const stream = uniqueName('ops')
  const refusing = uniqueName('ops-wrongtype')

  before(async () => {
    redis = await startRedisServer()
    // A key of the wrong type: every XADD to it is refused for good (WRONGTYPE), so the records routed
    // there are dead-lettered.
    const admin = new Redis(redis.url)
    await admin.set(refusing, 'not a stream')
    await admin.quit()
    data = await tempDataDir()
    daemon = await DaemonProcess.start({
      name: 'ops-daemon',
      env: {
        EDGEBRIDGE_BACKEND: 'redis-streams',
        EDGEBRIDGE_REDIS_URL: redis.url,
        EDGEBRIDGE_DATA_DIR: data.dir,
        EDGEBRIDGE_GATEWAY_ID: stream,
        EDGEBRIDGE_LOG_LEVEL: 'info',
        EDGEBRIDGE_SPOOL_MAX_BYTES: String(64 * 1024),
        EDGEBRIDGE_SPOOL_SEGMENT_BYTES: String(16 * 1024),
        EDGEBRIDGE_SPOOL_WHEN_FULL: 'drop-oldest',
        EDGEBRIDGE_FORWARDER_RETRY_INITIAL_MS: '50',
        EDGEBRIDGE_FORWARDER_RETRY_MAX_MS: '500',
        EDGEBRIDGE_ROUTES: JSON.stringify([
          { match: 'ops/bad/#', target: refusing, name: 'refused' },
          { match: 'ops/#', target: stream, name: 'telemetry' },
        ]),
      },
    })
    base = httpBaseOf(daemon)
    device = await connectAsync(`mqtt://127.0.0.1:${daemon.mqttPort}`, { clientId: uniqueName('dev') })
  })

  after(async () => {
    await device?.endAsync()
    await daemon?.close()
    await redis?.close()
    await data?.remove()
  })

  it('http - /healthz is live, /readyz is ready with a body per component', async () => {
    const health = await fetch(`${base}/healthz`)
    assert.equal(health.status, 200)
    assert.deepEqual(await health.json(), { status: 'ok' })
    const ready = await fetch(`${base}/readyz`)
    assert.equal(ready.status, 200)
    const body = (await ready.json()) as { status: string; components: Record<string, { status: string }> }
    assert.equal(body.status, 'ready')
    assert.equal(body.components.spool?.status, 'ok')
    assert.equal(body.components.listeners?.status, 'ok')
    assert.equal(body.components.core?.status, 'connected')
  })

  it('http - /metrics declares every family, and the counters follow what devices publish', async () => {
    for (let i = 0; i < 20; i++) await device.publishAsync(`ops/t/${i}`, `m${i}`, { qos: 1 })
    for (let i = 0; i < 3; i++) await device.publishAsync(`ops/bad/${i}`, `b${i}`, { qos: 1 })
    await device.publishAsync('ops/q0', 'zero', { qos: 0 })
    let s = await scrape(base)
    await waitUntil(
      async () => {
        s = await scrape(base)
        return (
          s.get('edgebridge_forwarded_records_total') === 21 &&
          s.get('edgebridge_dead_lettered_records_total') === 3
        )
      },
      15_000,
      '21 forwarded and 3 dead-lettered',
    )
    for (const family of FAMILIES) assert.ok(s.families.has(family), `the scrape declares ${family}`)
    assert.equal(s.get('edgebridge_device_publishes_received_total', { qos: '1' }), 23)
    assert.equal(s.get('edgebridge_device_publishes_received_total', { qos: '0' }), 1)
    assert.equal(s.get('edgebridge_routed_publishes_total', { route: 'telemetry' }), 21)
    assert.equal(s.get('edgebridge_routed_publishes_total', { route: 'refused' }), 3)
    assert.equal(s.get('edgebridge_core_connected'), 1)
    assert.equal(s.get('edgebridge_spool_depth_records'), 0)
    assert.equal(s.get('edgebridge_spool_capacity_bytes'), 64 * 1024)
    assert.ok(s.get('edgebridge_spool_fsync_duration_seconds_count') > 0)
    assert.ok(s.get('edgebridge_spool_group_commit_records_sum') >= 24)
    assert.equal(s.get('edgebridge_forwarder_end_to_end_age_seconds_count'), 21 + 3)
    assert.ok(s.get('edgebridge_forwarder_last_confirmed_timestamp_seconds') > Date.now() / 1000 - 60)
    assert.equal(s.get('edgebridge_devices_connected', { listener: `tcp://127.0.0.1:${daemon.mqttPort}` }), 1)
    // No topic and no client id in any label: series stay bounded.
    for (const key of s.samples.keys()) assert.doesNotMatch(key, /ops\/|dev-/, key)
    const { admitted, accounted } = identity(s)
    assert.equal(accounted, admitted)

    // The same for a person on the gateway's shell.
    const status = await edgebridgeCli(['status', '--url', base])
    assert.equal(status.code, 0, status.stderr)
    assert.match(
      status.stdout,
      new RegExp(`^${stream}: 1 device, backlog 0 records, core redis-streams connected\n`),
    )
    assert.match(status.stdout, /forwarded 21, dead-lettered 3/)
    assert.match(
      status.stdout,
      new RegExp(
        `    ${String(device.options.clientId)}  tcp://127\\.0\\.0\\.1:\\d+  -  since .* 24 messages`,
      ),
    )
    const asJson = await edgebridgeCli(['status', '--json', '--url', base])
    assert.equal((JSON.parse(asJson.stdout) as { gatewayId: string }).gatewayId, stream)
  })

  it('http - a core outage: core connected 0, /readyz 200 degraded, the oldest age grows; the identity holds through drop-oldest', async () => {
    await redis.stop()
    await waitUntil(
      async () => (await scrape(base)).get('edgebridge_core_connected') === 0,
      15_000,
      'core connected 0',
    )
    // Enough to overflow the 64 KiB spool several times: drop-oldest drops, also from the batch the
    // forwarder holds in flight while it retries.
    const payload = 'x'.repeat(1000)
    for (let i = 0; i < 200; i++) await device.publishAsync(`ops/t/out/${i}`, payload, { qos: 1 })
    const ready = await fetch(`${base}/readyz`)
    assert.equal(ready.status, 200)
    const body = (await ready.json()) as { status: string; components: { core: { status: string } } }
    assert.equal(body.status, 'degraded')
    assert.equal(body.components.core.status, 'disconnected')
    const first = (await scrape(base)).get('edgebridge_spool_oldest_record_age_seconds')
    await new Promise((r) => setTimeout(r, 1200))
    const during = await scrape(base)
    assert.ok(during.get('edgebridge_spool_oldest_record_age_seconds') > first, 'the oldest record ages')
    assert.ok(
      during.get('edgebridge_spool_dropped_records_total', { reason: 'drop-oldest' }) > 0,
      'records dropped',
    )
    assert.ok(during.get('edgebridge_spool_depth_bytes') <= 64 * 1024)
    assert.ok(during.get('edgebridge_forwarder_send_failures_total') > 0)
    const status = await edgebridgeCli(['status', '--url', base])
    assert.equal(status.code, 1, 'degraded: exit 1')
    assert.match(status.stdout, /core redis-streams disconnected \[degraded\]/)
    const mid = identity(during)
    assert.equal(mid.accounted, mid.admitted, 'identity during the outage')

    await redis.start()
    let after: Scrape = during
    await waitUntil(
      async () => {
        after = await scrape(base)
        return (
          after.get('edgebridge_core_connected') === 1 && after.get('edgebridge_spool_depth_records') === 0
        )
      },
      20_000,
      'the backlog drained',
    )
    const end = identity(after)
    assert.equal(
      end.accounted,
      end.admitted,
      'every admitted record is exactly one of forwarded, spooled, dropped, dead-lettered',
    )
    assert.equal(after.get('edgebridge_spool_appended_records_total'), 24 + 200)
    assert.equal(
      ((await fetch(`${base}/readyz`).then((r) => r.json())) as { status: string }).status,
      'ready',
    )
  })

  it('status - no gateway at the address: exit 69 with one line', async () => {
    const out = await edgebridgeCli(['status', '--url', 'http://127.0.0.1:1'])
    assert.equal(out.code, 69)
    assert.match(
      out.stderr,
      /^edgebridge status: no answer from http:\/\/127\.0\.0\.1:1 \(is the gateway running\?\)/,
    )
  })

  it('http - an unknown path is 404, a write is 405, a bad target is 400, and nothing changes', async () => {
    const before = await scrape(base)
    assert.equal((await fetch(`${base}/nope`)).status, 404)
    const post = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' })
    assert.equal(post.status, 405)
    assert.equal(post.headers.get('allow'), 'GET, HEAD')
    const raw = await rawRequest(new URL(base), 'GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n')
    assert.match(raw, /^HTTP\/1\.1 400/)
    const after = await scrape(base)
    assert.equal(
      after.get('edgebridge_forwarded_records_total'),
      before.get('edgebridge_forwarded_records_total'),
    )
    assert.equal(
      after.get('edgebridge_spool_appended_records_total'),
      before.get('edgebridge_spool_appended_records_total'),
    )
  })
})

async function rawRequest(url: URL, text: string): Promise<string> {
  const { connect } = await import('node:net')
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(text))
    let out = ''
    socket.on('data', (d) => {
      out += d.toString()
      if (out.includes('\r\n\r\n')) {
        socket.end()
        resolve(out)
      }
    })
    socket.on('error', reject)
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')))
  })
}
