/**
 * Hostile input against a live ingress (DESIGN.md invariant 6): several raw TCP connections send
 * 100,000 hostile MQTT packets, with about as many valid ones between them (bad remaining lengths, invalid
 * UTF-8, reserved bits, wildcards in PUBLISH topics, thousands of topic levels, a second CONNECT,
 * packets over the size limit, byte flips, truncation, garbage), cut into random chunks. Meanwhile a
 * well-behaved mqtt.js device publishes numbered QoS 1 messages.
 *
 * The gateway must not crash or leak: no unhandled rejection or uncaught exception, every one of the
 * device's publishes acknowledged and spooled in order, heap back to its level once the fuzzing stops,
 * and no fuzz connection left behind.
 *
 * The PRNG seed is printed; EDGEBRIDGE_FUZZ_SEED=<seed> replays a run. EDGEBRIDGE_FUZZ_PACKETS sets
 * how many hostile packets to send (default 100,000).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { MqttClient } from 'mqtt'
import { Ingress } from '../../src/ingress/ingress.js'
import { MemorySpool } from '../../src/spool/memory-spool.js'
import { silentLogger } from '../../src/observability/logger.js'
import { testConfig } from '../support/config.js'
import { connectDevice, startTestIngress } from '../support/ingress.js'
import { MqttMutator, Prng, type MutationKind } from '../support/mqtt-mutator.js'
import { waitUntil } from '../support/wait-until.js'

const MAX_PACKET_BYTES = 16 * 1024
const CONNECTIONS = 8
/** Hostile packets to send; valid ones are sent between them (about as many again). */
const HOSTILE_PACKETS = Number(process.env.EDGEBRIDGE_FUZZ_PACKETS ?? 100_000)
const SEED = Number(process.env.EDGEBRIDGE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32))
/** Share of a fuzz connection's packets (after its CONNECT) that are hostile. */
const HOSTILE_SHARE = 0.5
/** How long a fuzz connection waits for the broker to close it before hanging up itself. */
const LINGER_MS = 20
/** Slack for heap growth between a quarter of the run and its end (after GC): generous, no timing. */
const HEAP_SLACK_BYTES = 48 * 1024 * 1024
const GOOD_TOPIC = 'good/seq'
const GOOD_WINDOW = 8 // QoS 1 publishes in flight at once

/** A real GC when we can get one: --expose-gc, or the V8 flag set at run time. */
function gcFunction(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc
  if (existing) return existing
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

async function settledHeap(gc: () => void): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return process.memoryUsage().heapUsed
}

interface FuzzStats {
  packets: number
  hostile: number
  connections: number
  closedByBroker: number
  byKind: Partial<Record<MutationKind, number>>
}

/** One fuzz connection: a CONNECT (usually valid), then packets, written in random chunks. */
async function fuzzConnection(
  port: number,
  rng: Prng,
  workerId: number,
  n: number,
  stats: FuzzStats,
): Promise<number> {
  const mutator = new MqttMutator(rng, MAX_PACKET_BYTES)
  const packets: Buffer[] = []
  const count = (kind: MutationKind) => {
    stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1
  }
  if (rng.chance(0.9)) {
    packets.push(mutator.validConnect(`fuzz-${workerId}-${n}`))
    count('valid')
  } else {
    const m = mutator.hostile() // [MQTT-3.1.0-1] the first packet must be CONNECT
    packets.push(m.bytes)
    count(m.kind)
    stats.hostile++
  }
  const more = rng.range(0, 24)
  for (let i = 0; i < more; i++) {
    if (rng.chance(HOSTILE_SHARE)) {
      const m = mutator.hostile()
      packets.push(m.bytes)
      count(m.kind)
      stats.hostile++
    } else {
      packets.push(mutator.valid())
      count('valid')
    }
  }
  stats.packets += packets.length
  stats.connections++

  const all = Buffer.concat(packets)
  const cuts = Array.from({ length: rng.range(0, 3) }, () => rng.int(all.length)).sort((a, b) => a - b)
  const chunks: Buffer[] = []
  let from = 0
  for (const cut of [...cuts, all.length]) {
    if (cut > from) chunks.push(all.subarray(from, cut))
    from = Math.max(from, cut)
  }

  await new Promise<void>((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let timer: NodeJS.Timeout | undefined
    let finished = false
    const finish = () => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      socket.destroy()
      resolve()
    }
    socket.on('error', () => undefined) // ECONNRESET when the broker hangs up mid-write
    socket.on('data', () => undefined) // read and drop what the broker answers
    socket.once('end', () => stats.closedByBroker++)
    socket.once('close', finish)
    socket.once('connect', () => {
      for (const c of chunks) if (!socket.destroyed) socket.write(c)
      timer = setTimeout(finish, LINGER_MS)
    })
  })
  return packets.length
}

describe('ingress - hostile input fuzzing', () => {
  let spool: MemorySpool
  let ingress: Ingress
  let port: number
  let url: string
  const problems: string[] = []
  const onUnhandled = (reason: unknown) => problems.push(`unhandledRejection: ${String(reason)}`)
  const onUncaught = (err: Error) => problems.push(`uncaughtException: ${err.stack ?? String(err)}`)

  before(async () => {
    process.on('unhandledRejection', onUnhandled)
    process.on('uncaughtException', onUncaught)
    spool = new MemorySpool({ logger: silentLogger() })
    const config = testConfig({ mqtt: { maxPacketBytes: MAX_PACKET_BYTES } })
    ;({ ingress, port, url } = await startTestIngress({ spool, logger: silentLogger(), config }))
  })

  after(async () => {
    await ingress.close()
    await spool.close()
    process.off('unhandledRejection', onUnhandled)
    process.off('uncaughtException', onUncaught)
  })

  it('ingress - survives 100k hostile packets while a well-behaved device keeps every QoS 1 message in order', async () => {
    console.log(
      `fuzz seed ${SEED} (replay: EDGEBRIDGE_FUZZ_SEED=${SEED}), ${HOSTILE_PACKETS} hostile packets`,
    )
    const gc = gcFunction()
    const stats: FuzzStats = { packets: 0, hostile: 0, connections: 0, closedByBroker: 0, byKind: {} }

    // The stand-in forwarder: drains the spool, checks the good device's order, commits.
    const drainStop = new AbortController()
    let lastGoodSeq = 0
    const orderErrors: string[] = []
    // Topics that must never reach the spool: wildcards or NUL [MQTT-3.3.2-2] [MQTT-4.7.3-2], and
    // U+FFFD, which is what ill-formed UTF-8 decodes to [MQTT-1.5.3-1] (the fuzzer's valid topics never use it).
    const badTopics: string[] = []
    const drain = (async () => {
      while (!drainStop.signal.aborted) {
        const batch = await spool.read({ maxRecords: 2000, maxBytes: 16 * 1024 * 1024 }, drainStop.signal)
        if (batch.length === 0) continue
        for (const r of batch) {
          if (
            /[+#\ufffd]/.test(r.topic) ||
            r.topic.includes('\u0000') ||
            r.clientId.includes('\ufffd') ||
            r.qos > 2
          )
            badTopics.push(JSON.stringify([r.clientId.slice(0, 40), r.topic.slice(0, 80)]))
          if (r.clientId !== 'good-device') continue
          const n = Number(r.payload.toString())
          if (n !== lastGoodSeq + 1) orderErrors.push(`good message ${n} spooled after ${lastGoodSeq}`)
          lastGoodSeq = n
        }
        await spool.commit(batch[batch.length - 1]!.seq)
      }
    })()

    // The well-behaved device: numbered QoS 1 publishes, GOOD_WINDOW in flight, for the whole run.
    const good: MqttClient = await connectDevice(url, 'good-device')
    let goodSent = 0
    let goodAcked = 0
    const goodErrors: string[] = []
    let fuzzing = true
    const goodDevice = (async () => {
      const inFlight = new Set<Promise<void>>()
      while (fuzzing) {
        const n = ++goodSent
        const p: Promise<void> = good.publishAsync(GOOD_TOPIC, String(n), { qos: 1 }).then(
          () => {
            goodAcked++
          },
          (err: unknown) => {
            goodErrors.push(`publish ${n}: ${String(err)}`)
          },
        )
        const tracked = p.finally(() => inFlight.delete(tracked))
        inFlight.add(tracked)
        if (inFlight.size >= GOOD_WINDOW) await Promise.race(inFlight)
      }
      await Promise.all(inFlight)
    })()

    // The fuzzers: CONNECTIONS workers, each opening connection after connection until the total is sent.
    const rng = new Prng(SEED)
    const workerRngs = Array.from({ length: CONNECTIONS }, () => new Prng(rng.int(2 ** 32)))
    let heapAtQuarter: number | undefined
    let quarterPending = false
    const workers = workerRngs.map(async (wrng, id) => {
      for (let n = 0; stats.hostile < HOSTILE_PACKETS; n++) {
        await fuzzConnection(port, wrng, id, n, stats)
        if (heapAtQuarter === undefined && !quarterPending && stats.hostile >= HOSTILE_PACKETS / 4) {
          quarterPending = true
          heapAtQuarter = await settledHeap(gc)
        }
      }
    })
    await Promise.all(workers)
    fuzzing = false
    await goodDevice

    // Every fuzz connection is gone from the broker; the good device is still there.
    await waitUntil(() => ingress.counters().connected === 1, 10_000, 'fuzz connections to be released')
    // Everything acknowledged reaches the stand-in forwarder.
    await waitUntil(() => lastGoodSeq >= goodAcked, 10_000, 'the good messages to be drained')
    await waitUntil(() => spool.stats().depthRecords === 0, 10_000, 'the spool to drain')
    drainStop.abort()
    await drain
    await good.endAsync()

    const heapAtEnd = await settledHeap(gc)
    const mib = (b: number) => (b / 1024 / 1024).toFixed(1)
    const counters = ingress.counters()
    console.log(
      `fuzz: ${stats.packets} packets (${stats.hostile} hostile) over ${stats.connections} connections, ` +
        `${stats.closedByBroker} closed by the broker, ${counters.clients?.closedOnError ?? 0} closed on error, ` +
        `${counters.clients?.oversizePackets ?? 0} oversize; good device: ${goodAcked}/${goodSent} acknowledged; ` +
        `heap ${mib(heapAtQuarter ?? 0)} MiB at 25% -> ${mib(heapAtEnd)} MiB at the end (after GC)`,
    )
    console.log(`fuzz kinds: ${JSON.stringify(stats.byKind)}`)

    assert.deepEqual(problems, [], 'no unhandled rejection or uncaught exception')
    assert.ok(stats.hostile >= HOSTILE_PACKETS, `sent ${stats.hostile} hostile packets`)
    assert.deepEqual(goodErrors, [], 'every publish of the good device is acknowledged')
    assert.equal(goodAcked, goodSent)
    assert.ok(goodAcked > 0)
    assert.deepEqual(badTopics.slice(0, 10), [], 'no invalid topic or client id reached the spool')
    assert.deepEqual(orderErrors, [], 'the good device is spooled in order, without gaps')
    assert.equal(lastGoodSeq, goodSent, 'every good message reached the spool')
    assert.ok(
      (counters.clients?.closedOnError ?? 0) > 0 && stats.closedByBroker > 0,
      'the broker closed hostile clients',
    )
    assert.ok(heapAtQuarter !== undefined)
    assert.ok(
      heapAtEnd < heapAtQuarter + HEAP_SLACK_BYTES,
      `heap grew from ${mib(heapAtQuarter)} MiB to ${mib(heapAtEnd)} MiB`,
    )

    // Still serving: a new device connects and is acknowledged.
    const late = await connectDevice(url, 'late-device')
    await late.publishAsync('late/one', 'x', { qos: 1 })
    await late.endAsync()
  })
})
