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
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { uniqueName } from '../support/env.js'
import { startRedisServer } from '../support/servers.js'
import { redisStreamCollector } from './core-collectors.js'
import { crashTestStart, outageUnderLoad } from './scenario.js'

const DEVICES = 20
const RATE_PER_SECOND = 500 // the whole fleet
const OUTAGE_MS = 30_000 // 30 s without Redis

test('outage - a 30 s Redis outage under load loses nothing acknowledged and drains in order (redis-streams)', async (t) => {
  const { cleanup, dataDir } = await crashTestStart(t)
  const redisDir = await mkdtemp(join(tmpdir(), 'edgebridge-redis-aof-'))
  cleanup.add(redisDir, (dir) => rm(dir, { recursive: true, force: true }))
  const redis = await startRedisServer({
    args: ['--dir', redisDir, '--appendonly', 'yes', '--appendfsync', 'always'],
  })
  cleanup.add(redis, (x) => x.close())

  const stream = uniqueName('outage')
  const collector = cleanup.add(redisStreamCollector(redis.url, stream), (x) => x.close())
  await outageUnderLoad(cleanup, {
    backend: 'redis-streams',
    coreName: 'Redis',
    core: redis,
    backendEnv: { EDGEBRIDGE_REDIS_URL: redis.url },
    gatewayId: stream,
    dataDir,
    collector,
    // Every device publishes to the one stream the collector reads.
    topic: () => stream,
    devices: DEVICES,
    ratePerSecond: RATE_PER_SECOND,
    outageMs: OUTAGE_MS,
  })
})
