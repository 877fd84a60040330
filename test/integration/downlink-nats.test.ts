/**
 * The downlink through the whole daemon with NATS: subjects map back to MQTT topics the way
 * nats-server does, nothing goes back up to the core, and core.groupId is a queue group (same group:
 * each command to one gateway; different groups: to every gateway).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { Daemon } from '../../src/daemon.js'
import { testNatsUrl, uniqueName } from '../support/env.js'
import {
  closeAtEnd,
  startTestDaemon,
  subscribedDevice,
  type ReceivedMessage,
} from '../support/daemon-under-test.js'
import { waitUntil } from '../support/wait-until.js'

async function core(): Promise<NatsConnection> {
  const nc = await natsConnect({ servers: testNatsUrl() })
  closeAtEnd(() => nc.close())
  return nc
}

const subjectPrefix = (): string => uniqueName('dl').replace(/-/g, '_')

describe('downlink - nats', () => {
  it('downlink - commands.device1.reboot reaches the device on commands/device1/reboot, and is not forwarded back', async () => {
    const prefix = subjectPrefix()
    const nc = await core()
    // Everything under the prefix, the uplink's subjects included: an echo of the command would show here.
    const seen: Array<[string, string]> = []
    const monitor = nc.subscribe(`${prefix}.>`, {
      callback: (_err, m) => void seen.push([m.subject, m.string()]),
    })
    await nc.flush()
    const { daemon, url } = await startTestDaemon({
      gatewayId: uniqueName('gw'),
      core: { backend: 'nats', groupId: uniqueName('group') },
      nats: { subjectPrefix: prefix },
      downlink: { enabled: true, rules: [{ source: `${prefix}.commands.>` }] },
    })
    const dev = await subscribedDevice(url, 'commands/#')

    nc.publish(`${prefix}.commands.device1.reboot`, 'now')
    nc.publish(`${prefix}.commands.v1//2.set`, 'dotted') // '//' is an escaped '.' in nats-server's mapping
    await waitUntil(() => dev.received.length === 2, 10_000, 'the commands at the device')
    assert.deepEqual(dev.received, [
      { topic: 'commands/device1/reboot', payload: 'now', qos: 1 },
      { topic: 'commands/v1.2/set', payload: 'dotted', qos: 1 },
    ])

    // A marker through the uplink: the spool is FIFO, so an echo of a command would arrive before it.
    await dev.client.publishAsync('sensors/d1/marker', 'm', { qos: 1 })
    await waitUntil(
      () => seen.some(([s]) => s === `${prefix}.sensors.d1.marker`),
      10_000,
      'the marker in NATS',
    )
    assert.deepEqual(seen, [
      [`${prefix}.commands.device1.reboot`, 'now'],
      [`${prefix}.commands.v1//2.set`, 'dotted'],
      [`${prefix}.sensors.d1.marker`, 'm'],
    ])
    assert.equal(daemon.spool.stats().appendedTotal, 1, 'only the marker was spooled')
    assert.deepEqual(daemon.downlink.counters, { received: 2, delivered: 2, failed: 0, ownEchoes: 0 })
    monitor.unsubscribe()
  })

  it("downlink - a device's own publish, forwarded under a source subject, is not imported back", async () => {
    const prefix = subjectPrefix()
    const { daemon, url } = await startTestDaemon({
      gatewayId: uniqueName('gw'),
      core: { backend: 'nats', groupId: uniqueName('group') },
      nats: { subjectPrefix: prefix },
      downlink: { enabled: true, rules: [{ source: `${prefix}.commands.>` }] },
    })
    const dev = await subscribedDevice(url, 'commands/#')
    await dev.client.publishAsync('commands/d9/x', 'self', { qos: 1 })
    await waitUntil(() => daemon.downlink.counters.ownEchoes === 1, 10_000, 'the echo read and skipped')
    await waitUntil(() => dev.received.length >= 1, 10_000, 'the local delivery')
    assert.deepEqual(
      dev.received.map((r) => r.payload),
      ['self'],
    )
    assert.equal(daemon.downlink.counters.delivered, 0)
  })

  it('downlink - a template places the subject wildcards; an invalid rendered topic is counted, not delivered', async () => {
    const { daemon, url } = await startTestDaemon({
      gatewayId: uniqueName('gw'),
      core: { backend: 'nats', groupId: uniqueName('group') },
      downlink: {
        enabled: true,
        rules: [{ source: `${subjectPrefix()}.ops.*.*`, topic: 'devices/{1}/{2}', qos: 0 }],
      },
    })
    const source = daemon.config.downlink.rules[0]!.source
    const dev = await subscribedDevice(url, 'devices/#')
    const nc = await core()
    nc.publish(source.replace('*.*', 'd5.+'), 'bad') // renders devices/d5/+: a wildcard in a topic name
    nc.publish(source.replace('*.*', 'd5.led'), 'on')
    await waitUntil(() => dev.received.length === 1, 10_000, 'the valid command')
    assert.deepEqual(dev.received[0], { topic: 'devices/d5/led', payload: 'on', qos: 0 })
    assert.deepEqual(daemon.downlink.counters, { received: 2, delivered: 1, failed: 1, ownEchoes: 0 })
  })

  async function twoGateways(
    groupA: string,
    groupB: string,
  ): Promise<{ a: ReceivedMessage[]; b: ReceivedMessage[]; source: string; daemons: Daemon[] }> {
    const prefix = subjectPrefix()
    const out: ReceivedMessage[][] = []
    const daemons: Daemon[] = []
    for (const groupId of [groupA, groupB]) {
      const { daemon, url } = await startTestDaemon({
        gatewayId: uniqueName('gw'),
        core: { backend: 'nats', groupId },
        downlink: { enabled: true, rules: [{ source: `${prefix}.commands.>`, topic: 'commands/{1}' }] },
      })
      out.push((await subscribedDevice(url, 'commands/#')).received)
      daemons.push(daemon)
    }
    return { a: out[0]!, b: out[1]!, source: `${prefix}.commands`, daemons }
  }

  const COMMANDS = 40

  it('downlink - two gateways in the same queue group: each command reaches exactly one of them', async () => {
    const group = uniqueName('group')
    const { a, b, source, daemons } = await twoGateways(group, group)
    const nc = await core()
    for (let i = 0; i < COMMANDS; i++) nc.publish(`${source}.c${i}`, String(i))
    await nc.flush()
    const delivered = () => daemons.reduce((n, d) => n + d.downlink.counters.delivered, 0)
    await waitUntil(() => delivered() === COMMANDS, 10_000, 'every command delivered once')
    await waitUntil(() => a.length + b.length === COMMANDS, 10_000, 'every command at a device')
    const all = [...a, ...b].map((r) => Number(r.payload)).sort((x, y) => x - y)
    assert.deepEqual(all, [...Array(COMMANDS).keys()], 'each command exactly once across the two gateways')
    assert.ok(a.length > 0 && b.length > 0, `both gateways took a share (${a.length} + ${b.length})`)
  })

  it('downlink - two gateways in different groups: each receives every command', async () => {
    const { a, b, source } = await twoGateways(uniqueName('group'), uniqueName('group'))
    const nc = await core()
    for (let i = 0; i < COMMANDS; i++) nc.publish(`${source}.c${i}`, String(i))
    await waitUntil(() => a.length === COMMANDS && b.length === COMMANDS, 10_000, 'every command at both')
    for (const received of [a, b]) {
      assert.deepEqual(
        received.map((r) => [r.topic, r.payload]),
        [...Array(COMMANDS).keys()].map((i) => [`commands/c${i}`, String(i)]),
        'all of them, in order',
      )
    }
  })

  it('downlink - with the jetstream backend a command published to a stream subject reaches the device', async () => {
    const prefix = subjectPrefix()
    const stream = prefix.toUpperCase()
    const nc = await core()
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] })
    closeAtEnd(() => jsm.streams.delete(stream))
    const { url } = await startTestDaemon({
      gatewayId: uniqueName('gw'),
      core: { backend: 'jetstream', groupId: uniqueName('group') },
      nats: { subjectPrefix: prefix, stream: { name: stream, subjects: [`${prefix}.>`], create: false } },
      downlink: { enabled: true, rules: [{ source: `${prefix}.commands.>` }] },
    })
    const dev = await subscribedDevice(url, 'commands/#')
    const ack = await jetstream(nc).publish(`${prefix}.commands.d1.open`, 'open')
    assert.equal(ack.stream, stream)
    await waitUntil(() => dev.received.length === 1, 10_000, 'the command at the device')
    assert.deepEqual(dev.received[0], { topic: 'commands/d1/open', payload: 'open', qos: 1 })
  })
})
