/**
 * `edgebridge bench replay`: the core is down (edgebridge points at a port where nothing listens),
 * devices fill the disk spool with a backlog (1,000,000 messages by default); then the core comes up
 * and the backlog drains while live traffic keeps arriving at 2,000 msg/s (open loop, QoS 1). Reports
 * the backlog's drain rate as a ratio of the live ingest rate (target >= 3x).
 *
 * The core is a private redis-server and the backend `redis-streams`, so nothing forwarded before the
 * consumer attaches can be missed: the consumer reads the stream from its start.
 */
import { nowMs, sleep } from '../lib/clock.js'
import { startCoreConsumer } from '../lib/core-consumer.js'
import { coreEndpoint, runName } from '../lib/core-endpoint.js'
import { benchDaemonConfig } from '../lib/daemon-config.js'
import { DeliveryTracker } from '../lib/delivery-tracker.js'
import { rate, ratio, table } from '../lib/markdown.js'
import { MqttDevices } from '../lib/mqtt-devices.js'
import { runOpenLoop } from '../lib/open-loop.js'
import { encodePayload } from '../lib/payload.js'
import { privateRedis } from '../lib/private-redis.js'
import type { Scenario } from '../lib/scenario.js'
import { startSut } from '../lib/sut.js'

const TARGET = 3

export const replayScenario: Scenario = {
  name: 'replay',
  summary: 'backlog drain rate with live traffic, as a ratio of the live ingest rate',
  async run(ctx) {
    const { options } = ctx
    const backlog = options.backlog
    const redis = await privateRedis()
    const endpoint = coreEndpoint('redis-streams', { redisUrl: redis.url })
    const target = runName('ebbench-replay')
    const tracker = new DeliveryTracker(0)
    const closers: (() => Promise<void>)[] = [() => redis.stop()]
    try {
      const sut = await startSut({
        kind: 'edgebridge',
        config: benchDaemonConfig({
          endpoint,
          target,
          spool: { kind: 'disk', fsync: 'interval', maxBytes: 8 * 1024 * 1024 * 1024 },
        }),
      })
      closers.unshift(() => sut.stop())
      const devices = await MqttDevices.connect({
        port: sut.port,
        connections: options.devices,
        qos: 1,
        clientIdPrefix: `bench-replay-${process.pid}`,
      })
      closers.unshift(() => devices.close())

      // 1. The backlog: closed-loop QoS 1 publishes until `backlog` are acknowledged (spooled).
      ctx.progress.phase('building the backlog (core down)', backlog)
      const buildStart = nowMs()
      let seq = 0
      let acked = 0
      await new Promise<void>((resolve, reject) => {
        const next = (device: number): void => {
          if (seq >= backlog) return
          const payload = encodePayload(options.payloadBytes, seq++, nowMs())
          devices.publishOn(device, payload, (err) => {
            if (err) return reject(err)
            if (++acked % 1000 === 0) ctx.progress.update(acked)
            if (acked === backlog) resolve()
            else next(device)
          })
        }
        for (let d = 0; d < options.devices; d++) for (let w = 0; w < options.window; w++) next(d)
      })
      ctx.progress.stop()
      const buildSeconds = (nowMs() - buildStart) / 1000
      tracker.expectMore(backlog)
      const spooled = (await sut.stats()).spoolDepth
      ctx.log(
        `    backlog of ${backlog} acknowledged in ${buildSeconds.toFixed(1)} s; spool depth ${spooled}`,
      )

      // 2. The core comes up; live traffic starts at the same moment.
      let backlogArrived = 0
      let drainedAt = 0
      const drained = new AbortController()
      tracker.onArrival = (s) => {
        if (s < backlog && ++backlogArrived === backlog) {
          drainedAt = nowMs()
          drained.abort()
        }
        if (backlogArrived % 1000 === 0) ctx.progress.update(backlogArrived)
      }
      await redis.start()
      const consumer = await startCoreConsumer(endpoint, target, (p) => tracker.onPayload(p))
      closers.splice(closers.length - 1, 0, () => consumer.close())
      const upAt = nowMs()
      ctx.progress.phase(`draining with live traffic at ${rate(options.liveRate)}/s`, backlog)
      const maxDrainMs = Math.max(60_000, (backlog / 500) * 1000)
      const live = runOpenLoop({
        ratePerSecond: options.liveRate,
        durationMs: maxDrainMs,
        signal: drained.signal,
        issue: (from, to, at) => {
          tracker.expectMore(to - from)
          for (let i = from; i < to; i++)
            devices.publish(encodePayload(options.payloadBytes, backlog + i, at(i)), at(i))
        },
      })
      // A drain that stops making progress ends the wait (and the run reports what is missing).
      while (!drained.signal.aborted) {
        const quiet = nowMs() - Math.max(upAt, tracker.lastArrival)
        if (quiet > options.graceMs) break
        await sleep(100)
      }
      drained.abort()
      const liveResult = await live
      ctx.progress.stop()
      await tracker.waitForAll(options.graceMs)
      const drainSeconds = ((drainedAt || nowMs()) - upAt) / 1000
      const counts = tracker.counts()
      const drainRate = backlogArrived / drainSeconds
      const liveDuring = liveResult.issued
      const totalRate = (backlogArrived + liveDuring) / drainSeconds
      const result = {
        backlog,
        buildSeconds,
        ingestRatePerSecond: backlog / buildSeconds,
        drainSeconds,
        backlogDrainedPerSecond: drainRate,
        deliveredPerSecondDuringDrain: totalRate,
        liveRatePerSecond: options.liveRate,
        liveIssued: liveDuring,
        ratio: drainRate / options.liveRate,
        counts,
      }
      ctx.report.set('replay', result)
      ctx.log(
        `    drained ${backlogArrived}/${backlog} in ${drainSeconds.toFixed(1)} s: ${rate(drainRate)}/s`,
      )
      ctx.report.section(
        `Replay: ${backlog.toLocaleString('en-US')} spooled messages (${options.payloadBytes} B, disk spool, fsync interval) -> redis-streams, live traffic ${rate(options.liveRate)}/s`,
        [
          table(
            [
              'backlog',
              'built in (s)',
              'drained in (s)',
              'backlog drain msg/s',
              'all delivered msg/s',
              'live msg/s',
              'drain / live',
              'sent',
              'lost',
              'dup',
            ],
            [
              [
                backlog,
                buildSeconds.toFixed(1),
                drainSeconds.toFixed(1),
                rate(drainRate),
                rate(totalRate),
                rate(options.liveRate),
                ratio(result.ratio),
                counts.sent,
                counts.lost,
                counts.duplicates,
              ],
            ],
          ),
          '',
          `The backlog drained at ${ratio(result.ratio)} the live ingest rate while live traffic continued ` +
            `(target >= ${TARGET}x: ${result.ratio >= TARGET ? 'met' : 'not met'}).`,
        ].join('\n'),
      )
    } finally {
      ctx.progress.stop()
      for (const close of closers) await close().catch(() => undefined)
    }
  },
}
