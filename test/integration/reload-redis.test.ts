/**
 * SIGHUP reloads the routes and the downlink rules from the configuration file, in the running daemon
 * (a child process, real Redis): new routes apply to the next publish, new downlink sources are
 * subscribed; a file that no longer validates keeps the rules in force and the log says why.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { it } from 'node:test'
import { Redis } from 'ioredis'
import { connectAsync } from 'mqtt'
import { DaemonProcess } from '../support/daemon-process.js'
import { testRedisUrl, uniqueName } from '../support/env.js'
import { waitUntil } from '../support/wait-until.js'

it('reload - SIGHUP swaps routes and downlink rules; an invalid file keeps the old ones and says why', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'edgebridge-reload-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const file = join(dir, 'edgebridge.json')
  const [first, second, cmdA, cmdB] = ['first', 'second', 'cmdA', 'cmdB'].map((n) =>
    uniqueName(`reload-${n}`),
  )
  const configWith = (target: string, source: string, match = 'r/#') =>
    writeFile(
      file,
      JSON.stringify({
        routes: [{ match, target, name: 'r' }],
        downlink: { enabled: true, rules: [{ source: `${source}/*` }] },
      }),
    )
  await configWith(first!, cmdA!)

  const sub = new Redis(testRedisUrl())
  const pub = new Redis(testRedisUrl())
  t.after(async () => {
    sub.disconnect()
    pub.disconnect()
  })
  const got: Array<[string, string]> = []
  sub.on('message', (channel: string, message: string) => got.push([channel, message]))
  await sub.subscribe(first!, second!)

  const daemon = await DaemonProcess.start({
    name: 'reload-daemon',
    env: {
      EDGEBRIDGE_CONFIG: file,
      EDGEBRIDGE_BACKEND: 'redis',
      EDGEBRIDGE_REDIS_URL: testRedisUrl(),
      EDGEBRIDGE_SPOOL_KIND: 'memory',
      EDGEBRIDGE_LOG_LEVEL: 'info',
    },
  })
  t.after(() => daemon.close())
  const device = await connectAsync(`mqtt://127.0.0.1:${daemon.mqttPort}`, {
    clientId: uniqueName('reload-dev'),
  })
  t.after(() => device.endAsync())
  const commands: string[] = []
  device.on('message', (topic) => commands.push(topic))
  await device.subscribeAsync([`${cmdA}/#`, `${cmdB}/#`], { qos: 1 })

  await device.publishAsync('r/1', 'one', { qos: 1 })
  await waitUntil(() => got.some(([c, m]) => c === first && m === 'one'), 10_000, 'r/1 on the first target')

  // New route and new downlink source.
  await configWith(second!, cmdB!)
  let since = daemon.lines.length
  daemon.signal('SIGHUP')
  await daemon.waitForLine('routes and downlink rules reloaded', since, 10_000)
  await device.publishAsync('r/2', 'two', { qos: 1 })
  await waitUntil(() => got.some(([c, m]) => c === second && m === 'two'), 10_000, 'r/2 on the second target')
  await waitUntil(
    async () => (await pub.publish(`${cmdB}/x`, 'go')) > 0,
    10_000,
    'the new downlink source subscribed',
  )
  await waitUntil(() => commands.includes(`${cmdB}/x`), 10_000, 'the command from the new source')
  assert.equal(await pub.publish(`${cmdA}/x`, 'old'), 0, 'the old source is no longer subscribed')

  // A file that does not validate: the log says why, and the rules in force stay.
  await configWith(first!, cmdA!, 'r/#/bad')
  since = daemon.lines.length
  daemon.signal('SIGHUP')
  const refused = await daemon.waitForLine('reload refused', since, 10_000)
  assert.match(String(refused.reason), /routes\[0\]\.match/)
  await device.publishAsync('r/3', 'three', { qos: 1 })
  await waitUntil(
    () => got.some(([c, m]) => c === second && m === 'three'),
    10_000,
    'r/3 still on the second target',
  )
  assert.ok(!got.some(([c, m]) => c === first && m !== 'one'), 'nothing more on the first target')
})
