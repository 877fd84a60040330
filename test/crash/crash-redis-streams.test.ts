/**
 * Crash safety of the whole daemon with the durable disk spool (DESIGN.md invariants 1, 2, 3, 5):
 * 20 devices publish QoS 1 at 1,000 msg/s in all while the daemon, a real child process, is SIGKILLed
 * at random moments (every 1-4 s, for 60 s) and started again on the same data directory. The core is
 * a Redis stream: it lives through the run (the shared test Redis), so reading it at the end shows
 * everything the daemon ever forwarded, in order.
 *
 * Passes only if no acknowledged message is missing from the stream, every device's messages are in
 * order (first occurrences), and every message the devices published was finally acknowledged.
 * Duplicates are allowed (at-least-once) and printed.
 */
import { test } from 'node:test'
import { DeviceFleet } from '../support/device-fleet.js'
import { testRedisUrl, uniqueName } from '../support/env.js'
import { redisStreamCollector } from './core-collectors.js'
import {
  Cleanup,
  crashFigures,
  finishRun,
  killRepeatedly,
  redisStreamsDaemon,
  seededRandom,
  tempDataDir,
} from './scenario.js'

const DEVICES = 20
const RATE_PER_SECOND = 1_000 // the whole fleet
const KILLING_MS = 60_000 // 60 s of random kills
// Forwarding a little slower than the devices publish keeps a backlog in the spool that grows through
// the run, so every kill finds thousands of acknowledged records on disk that only the spool's
// recovery can save (with prompt forwarding the spool is nearly empty at most kills).
const FORWARD_RATE_PER_SECOND = 900
const seed = Number(process.env.EDGEBRIDGE_CRASH_SEED ?? Date.now() % 1_000_000)

test('crash - SIGKILL at random moments loses no acknowledged message (redis-streams, disk spool)', async (t) => {
  const cleanup = new Cleanup()
  t.after(() => cleanup.run())
  const data = cleanup.add(await tempDataDir(), (d) => d.remove())
  const stream = uniqueName('crash')
  const daemon = await redisStreamsDaemon(cleanup, data.dir, stream, testRedisUrl(), {
    EDGEBRIDGE_FORWARDER_REPLAY_RATE_LIMIT: String(FORWARD_RATE_PER_SECOND),
  })
  const collector = redisStreamCollector(testRedisUrl(), stream)
  cleanup.add(collector, (x) => x.close())
  // One topic for all devices: the stream key is the topic (no redis.prefix), one stream to read back.
  const fleet = await DeviceFleet.start({
    url: `mqtt://127.0.0.1:${daemon.mqttPort}`,
    devices: DEVICES,
    ratePerSecond: RATE_PER_SECOND,
    topic: () => stream,
  })
  cleanup.add(fleet, (x) => x.close())

  const kills = await killRepeatedly(daemon, {
    durationMs: KILLING_MS,
    minMs: 1_000,
    maxMs: 4_000,
    random: seededRandom(seed),
  })
  await finishRun(
    'crash',
    { daemon, fleet, collector },
    { backend: 'redis-streams', seed, ...crashFigures(daemon, kills) },
  )
})
