/**
 * A Redis outage under load (DESIGN.md invariants 2, 3, 4): the daemon (a child process, disk spool,
 * fsync always, backend redis-streams) keeps acknowledging devices into its spool while its Redis is
 * stopped for 30 s, and forwards the whole backlog, in order, once Redis is back.
 *
 * Design: the Redis is a private redis-server with an append-only file (appendonly yes, appendfsync
 * always) in a temporary directory, stopped and started on the same port and directory. So the stream
 * written before the outage is still there after it, and reading the stream once at the end (XRANGE)
 * shows everything the daemon ever forwarded, in the server's order. (A live XREAD consumer would have
 * to survive the outage itself and could blame its own gaps on the daemon; a server without
 * persistence would forget the first part of the run.)
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { DaemonProcess } from '../support/daemon-process.js'
import { DeviceFleet } from '../support/device-fleet.js'
import { uniqueName } from '../support/env.js'
import { startRedisServer } from '../support/servers.js'
import { redisStreamCollector } from './core-collectors.js'
import { Cleanup, coreOutage, finishRun, tempDataDir } from './scenario.js'

const DEVICES = 20
const RATE_PER_SECOND = 500 // the whole fleet
const OUTAGE_MS = 30_000 // 30 s without Redis

test('outage - a 30 s Redis outage under load loses nothing acknowledged and drains in order (redis-streams)', async (t) => {
  const cleanup = new Cleanup()
  t.after(() => cleanup.run())
  const data = cleanup.add(await tempDataDir(), (d) => d.remove())
  const redisDir = await mkdtemp(join(tmpdir(), 'edgebridge-redis-aof-'))
  cleanup.add(redisDir, (dir) => rm(dir, { recursive: true, force: true }))
  const redis = await startRedisServer({
    args: ['--dir', redisDir, '--appendonly', 'yes', '--appendfsync', 'always'],
  })
  cleanup.add(redis, (x) => x.close())

  const stream = uniqueName('outage')
  const daemon = await DaemonProcess.start({
    name: 'edgebridge (redis-streams)',
    env: {
      EDGEBRIDGE_BACKEND: 'redis-streams',
      EDGEBRIDGE_REDIS_URL: redis.url,
      EDGEBRIDGE_DATA_DIR: data.dir,
      EDGEBRIDGE_GATEWAY_ID: stream,
      EDGEBRIDGE_SPOOL_KIND: 'disk',
      EDGEBRIDGE_SPOOL_FSYNC: 'always',
      EDGEBRIDGE_LOG_LEVEL: 'info',
      // Retry at least every second, so the backlog starts draining soon after Redis is back.
      EDGEBRIDGE_FORWARDER_RETRY_MAX_MS: '1000',
    },
  })
  cleanup.add(daemon, (x) => x.close())
  const collector = redisStreamCollector(redis.url, stream)
  cleanup.add(collector, (x) => x.close())
  const fleet = await DeviceFleet.start({
    url: `mqtt://127.0.0.1:${daemon.mqttPort}`,
    devices: DEVICES,
    ratePerSecond: RATE_PER_SECOND,
    topic: () => stream,
  })
  cleanup.add(fleet, (x) => x.close())

  const outage = await coreOutage(
    { fleet, collector, core: redis },
    { beforeMs: 5_000, outageMs: OUTAGE_MS, afterMs: 5_000 },
  )
  assert.ok(outage.acknowledgedDuringOutage > 0, 'devices were acknowledged while Redis was down')
  await finishRun(
    'outage',
    { daemon, fleet, collector },
    {
      backend: 'redis-streams',
      outageMs: outage.outageMs,
      acknowledgedDuringOutage: outage.acknowledgedDuringOutage,
      backlogDrainMs: outage.backlogDrainMs,
    },
  )
})
