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
import { crashTestStart, killAtRandomThenFinish, redisStreamsRun } from './scenario.js'

const DEVICES = 20
const RATE_PER_SECOND = 1_000 // the whole fleet
const KILLING_MS = 60_000 // 60 s of random kills
// Forwarding a little slower than the devices publish keeps a backlog in the spool that grows through
// the run, so every kill finds thousands of acknowledged records on disk that only the spool's
// recovery can save (with prompt forwarding the spool is nearly empty at most kills).
const FORWARD_RATE_PER_SECOND = 900
const seed = Number(process.env.EDGEBRIDGE_CRASH_SEED ?? Date.now() % 1_000_000)

test('crash - SIGKILL at random moments loses no acknowledged message (redis-streams, disk spool)', async (t) => {
  const { cleanup, dataDir } = await crashTestStart(t)
  // One topic for all devices: the stream key is the topic (no redis.prefix), one stream to read back.
  const { daemon, collector, fleet } = await redisStreamsRun(cleanup, dataDir, {
    name: 'crash',
    devices: DEVICES,
    ratePerSecond: RATE_PER_SECOND,
    env: { EDGEBRIDGE_FORWARDER_REPLAY_RATE_LIMIT: String(FORWARD_RATE_PER_SECOND) },
  })

  await killAtRandomThenFinish(
    { daemon, fleet, collector },
    { backend: 'redis-streams', seed, killingMs: KILLING_MS },
  )
})
