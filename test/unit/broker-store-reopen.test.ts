/**
 * What the abstract suite cannot see: the broker store's state after the store is closed and opened
 * again (a restart), its limits, and what it does with a file it cannot use.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  SqliteStore,
  type SqliteStoreOptions,
  type StoreBroker,
} from '../../src/ingress/store/sqlite-store.js'
import { silentLogger } from '../../src/observability/logger.js'

const BROKER_ID = 'gw-reopen'

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgebridge-store-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function open(
  path: string,
  limits: Partial<SqliteStoreOptions> = {},
  broker: StoreBroker = { id: BROKER_ID, counter: 0 },
): Promise<{ store: SqliteStore; broker: StoreBroker }> {
  const store = new SqliteStore({
    path,
    maxQueuedMessages: 1000,
    maxQueuedBytes: 1024 * 1024,
    maxRetainedMessages: 1000,
    logger: silentLogger(),
    ...limits,
  })
  await store.setup(broker)
  return { store, broker }
}

async function all<T>(stream: AsyncIterable<unknown>): Promise<T[]> {
  const out: T[] = []
  for await (const item of stream) out.push(item as T)
  return out
}

const publish = (broker: StoreBroker, topic: string, payload: string, qos = 1) => ({
  cmd: 'publish' as const,
  topic,
  payload: Buffer.from(payload),
  qos,
  retain: false,
  dup: false,
  brokerId: broker.id,
  brokerCounter: ++broker.counter,
})

test('broker store - every kind of state survives close and reopen', async (t) => {
  const path = join(tempDir(t), 'broker-state.db')
  const first = await open(path)
  const { store, broker } = first
  const device = { id: 'sensor-1' }

  await store.storeRetained({ ...publish(broker, 'config/sensor-1', 'interval=60'), retain: true })
  await store.addSubscriptions(device, [
    { clientId: device.id, topic: 'cmd/sensor-1/#', qos: 1 },
    { clientId: device.id, topic: 'broadcast', qos: 0 },
  ])
  const m1 = publish(broker, 'cmd/sensor-1/reboot', 'now')
  const m2 = publish(broker, 'cmd/sensor-1/led', 'on')
  const m3 = publish(broker, 'cmd/sensor-1/qos2', 'exactly-once', 2)
  for (const m of [m1, m2, m3]) await store.outgoingEnqueueCombi([{ clientId: device.id }], m)
  await store.outgoingUpdate(device, { ...m1, messageId: 7 }) // m1 was sent once, no PUBACK yet
  await store.outgoingUpdate(device, { ...m3, messageId: 9 })
  await store.outgoingUpdate(device, { cmd: 'pubrel', messageId: 9 }) // m3 got its PUBREC
  await store.incomingStorePacket(device, { ...publish(broker, 'up/sensor-1', 'reading', 2), messageId: 42 })
  await store.putWill(device, {
    topic: 'status/sensor-1',
    payload: Buffer.from('offline'),
    qos: 1,
    retain: true,
  })
  await store.destroy()
  await store.destroy() // safe twice

  const { store: again, broker: restarted } = await open(path)
  t.after(() => again.destroy())
  assert.equal(
    restarted.counter,
    m2.brokerCounter,
    "aedes' counter starts after the last message still queued",
  )

  const retained = await all<{ topic: string; payload: Buffer }>(
    again.createRetainedStreamCombi(['config/#']),
  )
  assert.deepEqual(
    retained.map((p) => [p.topic, p.payload.toString()]),
    [['config/sensor-1', 'interval=60']],
  )
  assert.deepEqual(
    (await again.subscriptionsByClient(device)).map((s) => [s.topic, s.qos]),
    [
      ['cmd/sensor-1/#', 1],
      ['broadcast', 0],
    ],
  )
  const matched = await again.subscriptionsByTopic('cmd/sensor-1/reboot')
  assert.deepEqual(
    matched.map((s) => [s.clientId, s.topic]),
    [[device.id, 'cmd/sensor-1/#']],
    'the topic index is rebuilt from disk',
  )
  assert.deepEqual(await again.countOffline(), { subsCount: 1, clientsCount: 1 })

  const queue = await all<Record<string, unknown>>(again.outgoingStream(device))
  assert.deepEqual(
    queue.map((p) => [p.cmd, p.messageId, p.payload === undefined ? null : String(p.payload)]),
    [
      ['publish', 7, 'now'],
      ['publish', undefined, 'on'],
      ['pubrel', 9, null],
    ],
    'queued in order, with the identifiers they were sent with and the PUBREL in place of m3',
  )
  assert.equal((await again.incomingGetPacket(device, { messageId: 42 })).payload?.toString(), 'reading')

  const will = await again.getWill(device)
  assert.equal(will?.topic, 'status/sensor-1')
  assert.equal(String(will?.payload), 'offline')
  const orphaned = await all<{ clientId: string }>(again.streamWill({ [BROKER_ID]: Date.now() }))
  assert.deepEqual(
    orphaned.map((w) => w.clientId),
    [device.id],
    'a will left by the previous run is due for publication although this broker id is alive',
  )
})

test('broker store - a queue over its message limit drops the oldest and counts it', async (t) => {
  const { store, broker } = await open(join(tempDir(t), 's.db'), { maxQueuedMessages: 3 })
  t.after(() => store.destroy())
  const device = { id: 'sleepy' }
  for (let i = 1; i <= 5; i++)
    await store.outgoingEnqueueCombi([{ clientId: device.id }], publish(broker, 't', `m${i}`))
  const queue = await all<{ payload: Buffer }>(store.outgoingStream(device))
  assert.deepEqual(
    queue.map((p) => p.payload.toString()),
    ['m3', 'm4', 'm5'],
  )
  assert.equal(store.counters.queueDropped, 2)
  assert.equal(store.counters.queueDroppedBytes, 2 * (2 + 1))
})

test('broker store - a queue over its byte limit drops the oldest; a message larger than the limit is dropped', async (t) => {
  const { store, broker } = await open(join(tempDir(t), 's.db'), { maxQueuedBytes: 25 })
  t.after(() => store.destroy())
  const device = { id: 'sleepy' }
  for (const p of ['aaaaaaaaa', 'bbbbbbbbb', 'ccccccccc']) {
    await store.outgoingEnqueueCombi([{ clientId: device.id }], publish(broker, 't', p)) // 10 bytes each
  }
  assert.deepEqual(store.queued(device.id), { messages: 2, bytes: 20 })
  await store.outgoingEnqueueCombi([{ clientId: device.id }], publish(broker, 't', 'x'.repeat(30)))
  const queue = await all<{ payload: Buffer }>(store.outgoingStream(device))
  assert.deepEqual(
    queue.map((p) => p.payload.toString()),
    ['bbbbbbbbb', 'ccccccccc'],
  )
  assert.equal(store.counters.queueDropped, 2)
})

test('broker store - the same message enqueued twice for a client is kept once and drops nothing', async (t) => {
  const { store, broker } = await open(join(tempDir(t), 's.db'), { maxQueuedMessages: 2 })
  t.after(() => store.destroy())
  const device = { id: 'd' }
  const a = publish(broker, 't', 'a')
  const b = publish(broker, 't', 'b')
  await store.outgoingEnqueueCombi([{ clientId: device.id }], a)
  await store.outgoingEnqueueCombi([{ clientId: device.id }], b)
  await store.outgoingEnqueueCombi([{ clientId: device.id }], b) // ingress before PUBACK, then aedes
  assert.deepEqual(store.queued(device.id).messages, 2)
  assert.equal(store.counters.queueDropped, 0)
})

test('broker store - retained messages beyond the limit are not kept, updates and deletes still are', async (t) => {
  const { store, broker } = await open(join(tempDir(t), 's.db'), { maxRetainedMessages: 2 })
  t.after(() => store.destroy())
  const retain = (topic: string, payload: string) => ({ ...publish(broker, topic, payload), retain: true })
  await store.storeRetained(retain('a', '1'))
  await store.storeRetained(retain('b', '1'))
  await store.storeRetained(retain('c', '1'))
  assert.equal(store.counters.retainedRefused, 1)
  await store.storeRetained(retain('a', '2'))
  await store.storeRetained(retain('b', ''))
  await store.storeRetained(retain('c', '2'))
  const kept = await all<{ topic: string; payload: Buffer }>(store.createRetainedStreamCombi(['#']))
  assert.deepEqual(kept.map((p) => [p.topic, p.payload.toString()]).sort(), [
    ['a', '2'],
    ['c', '2'],
  ])
  assert.equal(store.counters.retainedRefused, 1)
})

test('broker store - a damaged file is moved aside and the store starts empty', async (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'broker-state.db')
  writeFileSync(path, Buffer.alloc(8192, 0x5a)) // not an SQLite file
  const { store } = await open(path)
  t.after(() => store.destroy())
  assert.equal(store.counters.openFailures, 1)
  assert.equal(store.inMemory, false, 'a new file was created in its place')
  assert.ok(
    readdirSync(dir).some((f) => f.startsWith('broker-state.db.damaged-')),
    'the damaged file is kept for the operator',
  )
  await store.storeRetained({ topic: 'a', payload: Buffer.from('1'), qos: 0, retain: true, cmd: 'publish' })
  assert.equal((await all(store.createRetainedStreamCombi(['#']))).length, 1)
})

test('broker store - a store that cannot be created keeps the broker state in memory', async (t) => {
  const dir = tempDir(t)
  writeFileSync(join(dir, 'not-a-dir'), 'x')
  const { store } = await open(join(dir, 'not-a-dir', 'broker-state.db'))
  t.after(() => store.destroy())
  assert.equal(store.counters.openFailures, 1)
  assert.equal(store.inMemory, true)
  await store.addSubscriptions({ id: 'c' }, [{ clientId: 'c', topic: 't', qos: 1 }])
  assert.equal((await store.subscriptionsByTopic('t')).length, 1)
})

test('broker store - a QoS 1 message stored before its PUBACK is kept once when aedes publishes it, and numbered after a crash', async (t) => {
  const path = join(tempDir(t), 's.db')
  const { store, broker } = await open(path)
  const device = { id: 'asleep' }
  await store.addSubscriptions(device, [{ clientId: device.id, topic: 'cmd/#', qos: 1 }])
  const fromDevice = (text: string) => ({
    cmd: 'publish' as const,
    topic: 'cmd/x',
    payload: Buffer.from(text),
    qos: 1,
    retain: true,
    dup: false,
    messageId: 5,
  })

  // Published: stored before the PUBACK, then aedes' own calls with the counter it assigned.
  const published = fromDevice('first')
  store.storeBeforeAck(published)
  assert.deepEqual(store.queued(device.id).messages, 1, 'durable before the PUBACK')
  const asAedes = { ...published, brokerId: broker.id, brokerCounter: ++broker.counter }
  await store.storeRetained(asAedes)
  await store.outgoingEnqueueCombi(await store.subscriptionsByTopic('cmd/x'), asAedes)
  // Crashed between the PUBACK and aedes' publication.
  store.storeBeforeAck(fromDevice('second'))
  await store.destroy()

  const { store: again, broker: restarted } = await open(path)
  t.after(() => again.destroy())
  const queue = await all<{ payload: Buffer; brokerId: string; brokerCounter: number }>(
    again.outgoingStream(device),
  )
  assert.deepEqual(
    queue.map((p) => [p.payload.toString(), p.brokerId, p.brokerCounter]),
    [
      ['first', BROKER_ID, 1],
      ['second', BROKER_ID, 2],
    ],
    'each message once, in order, numbered after the counter of the restarted broker',
  )
  assert.equal(restarted.counter, 2)
  const retained = await all<{ payload: Buffer }>(again.createRetainedStreamCombi(['cmd/#']))
  assert.deepEqual(
    retained.map((p) => p.payload.toString()),
    ['second'],
  )
})
