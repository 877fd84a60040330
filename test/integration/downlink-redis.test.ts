/**
 * The downlink through the whole daemon with Redis: a message published in the core reaches a device
 * subscribed to the mapped topic, and nothing goes back up to the core (no loop).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Redis } from 'ioredis'
import { testRedisUrl, uniqueName } from '../support/env.js'
import { closeAtEnd, startTestDaemon, subscribedDevice } from '../support/daemon-under-test.js'
import { waitUntil } from '../support/wait-until.js'

function redis(): Redis {
  const r = new Redis(testRedisUrl())
  closeAtEnd(async () => r.disconnect())
  return r
}

describe('downlink - redis', () => {
  it('downlink - a PUBLISH on a matching channel reaches the device on the channel less the prefix, and is not forwarded back', async () => {
    const gatewayId = uniqueName('gw')
    const prefix = `${uniqueName('dl')}/`
    // Everything under the prefix, the uplink's channels included: an echo of the command would show here.
    const monitor = redis()
    const seen: Array<[string, string]> = []
    monitor.on('pmessage', (_p: string, channel: string, message: string) => seen.push([channel, message]))
    await monitor.psubscribe(`${prefix}*`)
    const { daemon, url } = await startTestDaemon({
      gatewayId,
      core: { backend: 'redis', groupId: '' },
      redis: { prefix },
      downlink: { enabled: true, rules: [{ source: `${prefix}commands/*` }] },
    })
    const dev = await subscribedDevice(url, 'commands/#')
    const core = redis()
    await waitUntil(
      async () =>
        /psub=1/.test(
          ((await core.client('LIST')) as string)
            .split('\n')
            .find((l) => l.includes(`name=edgebridge-${gatewayId}-downlink`)) ?? '',
        ),
      10_000,
      'the downlink PSUBSCRIBEd',
    )

    await core.publish(`${prefix}commands/device1/reboot`, 'now')
    await waitUntil(() => dev.received.length === 1, 10_000, 'the command at the device')
    assert.deepEqual(dev.received[0], { topic: 'commands/device1/reboot', payload: 'now', qos: 1 })

    // A marker through the uplink: the spool is FIFO, so an echo of the command would arrive before it.
    await dev.client.publishAsync('sensors/d1/marker', 'm', { qos: 1 })
    await waitUntil(
      () => seen.some(([c]) => c === `${prefix}sensors/d1/marker`),
      10_000,
      'the marker in Redis',
    )
    assert.deepEqual(seen, [
      [`${prefix}commands/device1/reboot`, 'now'],
      [`${prefix}sensors/d1/marker`, 'm'],
    ])
    assert.equal(daemon.spool.stats().appendedTotal, 1, 'only the marker was spooled')
    assert.deepEqual(daemon.downlink.counters, { received: 1, delivered: 1, failed: 0, ownEchoes: 0 })
  })

  it('downlink - a template places glob captures, with the rule qos and retain', async () => {
    const prefix = uniqueName('dl')
    const { url } = await startTestDaemon({
      gatewayId: uniqueName('gw'),
      core: { backend: 'redis' },
      downlink: {
        enabled: true,
        rules: [{ source: `${prefix}:cmd:*`, topic: 'devices/{1}/cmd', qos: 0, retain: true }],
      },
    })
    const core = redis()
    // PUBLISH replies with the receivers: wait until the downlink is one of them (retained, so no race).
    await waitUntil(
      async () => (await core.publish(`${prefix}:cmd:d7`, 'on')) === 1,
      10_000,
      'the downlink subscribed',
    )
    // Retained: a device subscribing afterwards still gets it [MQTT-3.3.1-6].
    const dev = await subscribedDevice(url, 'devices/+/cmd')
    await waitUntil(() => dev.received.length >= 1, 10_000, 'the retained command')
    assert.equal(dev.received[0]?.topic, 'devices/d7/cmd')
    assert.equal(dev.received[0]?.payload, 'on')
  })

  it('downlink - redis-streams: an entry reaches the device on its topic field, then is acknowledged in the group', async () => {
    const prefix = `${uniqueName('dl')}/`
    const stream = `${prefix}commands`
    const groupId = uniqueName('group')
    const { daemon, url } = await startTestDaemon({
      gatewayId: uniqueName('gw'),
      core: { backend: 'redis-streams', groupId },
      redis: { prefix },
      downlink: { enabled: true, rules: [{ source: stream }] },
    })
    const dev = await subscribedDevice(url, 'commands/#')
    const core = redis()
    await waitUntil(
      async () =>
        (await core.exists(stream)) === 1 && ((await core.xinfo('GROUPS', stream)) as unknown[]).length === 1,
      10_000,
      'the consumer group',
    )
    await core.xadd(stream, '*', 'payload', 'reboot', 'mqtt.topic', 'commands/d2/reboot')
    await core.xadd(stream, '*', 'payload', 'all') // no topic field: the stream key less the prefix
    await waitUntil(() => dev.received.length === 2, 10_000, 'both commands at the device')
    assert.deepEqual(
      dev.received.map((r) => [r.topic, r.payload]),
      [
        ['commands/d2/reboot', 'reboot'],
        ['commands', 'all'],
      ],
    )
    await waitUntil(
      async () => ((await core.xpending(stream, groupId)) as [number])[0] === 0,
      10_000,
      'every entry acknowledged',
    )
    assert.equal(daemon.spool.stats().appendedTotal, 0, 'nothing went up to the core')
    closeAtEnd(() => core.del(stream))
  })

  it("downlink - redis-streams: a device's own message forwarded into a source stream is not imported back", async () => {
    const prefix = `${uniqueName('dl')}/`
    const stream = `${prefix}commands/d3`
    const { daemon, url } = await startTestDaemon({
      gatewayId: uniqueName('gw'),
      core: { backend: 'redis-streams', groupId: uniqueName('group') },
      redis: { prefix },
      downlink: { enabled: true, rules: [{ source: stream }] },
    })
    const dev = await subscribedDevice(url, 'commands/#')
    const core = redis()
    await waitUntil(async () => (await core.exists(stream)) === 1, 10_000, 'the consumer group')
    // The device's publish goes up to stream <prefix>commands/d3 (the default route): the downlink's source.
    await dev.client.publishAsync('commands/d3', 'self', { qos: 1 })
    await waitUntil(() => daemon.downlink.counters.ownEchoes === 1, 10_000, 'the echo read and skipped')
    // The broker delivers the device's own publish to its subscription; a re-import would be a second copy.
    await waitUntil(() => dev.received.length >= 1, 10_000, 'the local delivery')
    assert.deepEqual(
      dev.received.map((r) => r.payload),
      ['self'],
      'delivered once, by the broker itself',
    )
    assert.equal(daemon.downlink.counters.delivered, 0)
    closeAtEnd(() => core.del(stream))
  })
})
