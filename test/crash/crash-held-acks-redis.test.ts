/**
 * Crash while acknowledgements are held (DESIGN.md invariant 1, with the ack path of
 * src/ingress/ack-hold.ts): the daemon reads a device's packets on while their appends wait for the
 * fsync, so at any moment under load PUBACKs are held back. This test SIGKILLs the daemon (a real
 * child process, disk spool, fsync always) only at moments when the devices are waiting for PUBACKs,
 * restarts it on the same data directory, and at the end checks at the core (a Redis stream) that no
 * message acknowledged before any kill is missing, and that every device's messages are in order.
 * A PUBACK that left before its fsync would show up here as an acknowledged message lost.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  crashTestStart,
  finishRun,
  recoveredRecords,
  redisStreamsRun,
  seededRandom,
  sleep,
} from './scenario.js'

const DEVICES = 10
const RATE_PER_SECOND = 1_500 // the whole fleet: enough that PUBACKs are always waiting on an fsync
const KILLS = 4
const HELD_AT_KILL = 10 // kill only once the devices wait for at least this many PUBACKs
const WAIT_FOR_HELD_MS = 3_000 // ...or after this long, whatever the count
const seed = Number(process.env.EDGEBRIDGE_CRASH_SEED ?? Date.now() % 1_000_000)

test('crash - SIGKILL while acknowledgements are held loses no acknowledged message (redis-streams)', async (t) => {
  const { cleanup, dataDir } = await crashTestStart(t)
  const { daemon, collector, fleet } = await redisStreamsRun(cleanup, dataDir, {
    name: 'held',
    devices: DEVICES,
    ratePerSecond: RATE_PER_SECOND,
  })

  const random = seededRandom(seed)
  const heldAtKills: number[] = []
  for (let k = 0; k < KILLS; k++) {
    await sleep(500 + random() * 1_500)
    const deadline = Date.now() + WAIT_FOR_HELD_MS
    while (fleet.counts().unacknowledged < HELD_AT_KILL && Date.now() < deadline) await sleep(1)
    heldAtKills.push(fleet.counts().unacknowledged)
    await daemon.kill('SIGKILL')
    await daemon.start()
  }
  assert.ok(
    heldAtKills.some((n) => n > 0),
    `the devices waited for PUBACKs at some kill (${heldAtKills.join(', ')})`,
  )
  await finishRun(
    'crash-held-acks',
    { daemon, fleet, collector },
    {
      backend: 'redis-streams',
      seed,
      kills: KILLS,
      heldAtKills: heldAtKills.join('/'),
      recoveredRecords: recoveredRecords(daemon),
    },
  )
})
