/**
 * NATS backends beyond the conformance suite: max_payload, credentials, a server down at start (the
 * first connect retried in the background), JetStream de-duplication, stream create/update, subjects no
 * stream captures. Real nats-server instances only.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import type { Backend, BackendFactory } from '../../src/backends/backend.js'
import { createJetStreamBackend } from '../../src/backends/nats/jetstream-backend.js'
import { createNatsBackend } from '../../src/backends/nats/nats-backend.js'
import type { EdgebridgeConfig } from '../../src/config/types.js'
import { ConfigError, EdgebridgeError } from '../../src/errors.js'
import { silentLogger } from '../../src/observability/logger.js'
import { makeRecords, MIB, waitFor } from '../conformance/suite.js'
import { natsSubjectConsumer } from '../conformance/nats-consumers.js'
import { testConfig } from '../support/config.js'
import { testNatsUrl, uniqueName } from '../support/env.js'
import { startNatsServer } from '../support/servers.js'
import { activeResources, openedSince } from '../support/active-resources.js'
import { settlesWithin } from '../support/wait-until.js'

const closers: (() => Promise<unknown>)[] = []
after(async () => {
  for (const c of closers.reverse()) await c().catch(() => undefined)
})

function open(factory: BackendFactory, config: EdgebridgeConfig): Backend {
  const backend = factory(config, { logger: silentLogger() })
  closers.push(() => backend.close())
  return backend
}

const rejectsWith = (code: string, retriable: boolean) => (err: unknown) => {
  assert.ok(err instanceof EdgebridgeError, `expected an EdgebridgeError, got ${String(err)}`)
  assert.equal(err.code, code, err.message)
  assert.equal(err.retriable, retriable, `retriable for ${err.message}`)
  return true
}

function jsConfig(
  subjects: string[],
  name: string,
  servers = [testNatsUrl()],
  create = true,
): EdgebridgeConfig {
  return testConfig({ core: { backend: 'jetstream' }, nats: { servers, stream: { name, subjects, create } } })
}

async function streamInfo(name: string, server = testNatsUrl()) {
  const nc = await connect({ servers: server })
  try {
    const jsm = await jetstreamManager(nc)
    return await jsm.streams.info(name)
  } finally {
    await nc.close()
  }
}

async function deleteStream(name: string, server = testNatsUrl()): Promise<void> {
  const nc = await connect({ servers: server })
  const jsm = await jetstreamManager(nc)
  await jsm.streams.delete(name).catch(() => undefined)
  await nc.close()
}

test('backend nats - a payload over the server max_payload is a non-retriable rejection', async () => {
  const backend = open(createNatsBackend, testConfig({ core: { backend: 'nats' } }))
  await backend.connect()
  const big = Buffer.alloc(MIB + 1)
  await assert.rejects(
    backend.send(makeRecords(uniqueName('big'), [big])),
    rejectsWith('BACKEND_REJECTED', false),
  )
  // The connection is still usable for the next batch.
  await backend.send(makeRecords(uniqueName('small'), [Buffer.from('x')]))
})

test('backend nats - connect resolves while the server is down, connects in the background when it comes', async () => {
  const server = await startNatsServer()
  closers.push(() => server.close())
  await server.stop()
  const config = testConfig({ core: { backend: 'nats' }, nats: { servers: [server.url] } })
  const backend = open(createNatsBackend, config)
  await backend.connect()
  assert.equal(backend.isConnected(), false)
  await assert.rejects(
    backend.send(makeRecords('s', [Buffer.from('x')])),
    rejectsWith('BACKEND_UNAVAILABLE', true),
  )
  await server.start()
  await waitFor(
    () => backend.isConnected(),
    20_000,
    () => 'the first connect to succeed',
  )
  const subject = uniqueName('late')
  const consumer = await natsSubjectConsumer(config, subject)
  closers.push(() => consumer.close())
  await backend.send(makeRecords(subject, [Buffer.from('arrived')]))
  await waitFor(
    () => consumer.received.length === 1,
    10_000,
    () => 'the message',
  )
})

test('backend nats - close while the first connect is still retrying ends it (the process can exit)', async () => {
  const server = await startNatsServer()
  closers.push(() => server.close())
  await server.stop()
  const backend = createNatsBackend(
    testConfig({ core: { backend: 'nats' }, nats: { servers: [server.url] } }),
    {
      logger: silentLogger(),
    },
  )
  const before = activeResources()
  await backend.connect()
  // The server is down: the first connect failed and the loop waits for its next attempt.
  assert.notDeepEqual(openedSince(before), [], 'the retry loop is running (its back-off timer)')
  await settlesWithin(backend.close(), 10_000, 'close()')
  await backend.close()
  // What the loop had open (its timer, a socket of an attempt) is gone the moment close() resolves; a
  // loop that ignores close() still holds its timer here, or keeps close() from resolving.
  assert.deepEqual(openedSince(before), [], 'nothing of the backend is left running')
  await assert.rejects(
    backend.send(makeRecords('s', [Buffer.from('x')])),
    rejectsWith('BACKEND_CLOSED', false),
  )
})

test('backend nats - wrong credentials are a non-retriable BACKEND_AUTH, right ones work', async () => {
  const server = await startNatsServer({ args: ['--user', 'edge', '--pass', 'right-secret'] })
  closers.push(() => server.close())
  const bad = open(
    createNatsBackend,
    testConfig({
      core: { backend: 'nats' },
      nats: { servers: [server.url], user: 'edge', password: 'wrong' },
    }),
  )
  await bad.connect()
  await assert.rejects(bad.send(makeRecords('s', [Buffer.from('x')])), rejectsWith('BACKEND_AUTH', false))
  const good = open(
    createNatsBackend,
    testConfig({
      core: { backend: 'nats' },
      nats: { servers: [server.url], user: 'edge', password: 'right-secret' },
    }),
  )
  await good.connect()
  await good.send(makeRecords('s', [Buffer.from('x')]))
})

test('backend nats - a token authenticates', async () => {
  const server = await startNatsServer({ args: ['--auth', 's3cr3t-token'] })
  closers.push(() => server.close())
  const backend = open(
    createNatsBackend,
    testConfig({ core: { backend: 'nats' }, nats: { servers: [server.url], token: 's3cr3t-token' } }),
  )
  await backend.connect()
  await backend.send(makeRecords('s', [Buffer.from('x')]))
})

test('backend nats - an unreadable creds file rejects connect with a ConfigError naming the key', async () => {
  const backend = open(
    createNatsBackend,
    testConfig({ core: { backend: 'nats' }, nats: { credsFile: '/nonexistent/user.creds' } }),
  )
  await assert.rejects(
    backend.connect(),
    (err: unknown) => err instanceof ConfigError && /nats\.credsFile/.test(err.message),
  )
})

test('backend jetstream - a batch sent twice is stored once (msgID de-duplication)', async () => {
  const subject = uniqueName('dedupe')
  const name = `S-${subject}`
  closers.push(() => deleteStream(name))
  const backend = open(createJetStreamBackend, jsConfig([subject], name))
  await backend.connect()
  const batch = makeRecords(
    subject,
    Array.from({ length: 50 }, (_, i) => Buffer.from(String(i))),
  )
  await backend.send(batch)
  await backend.send(batch) // what the forwarder does after a send it could not confirm
  const info = await streamInfo(name)
  assert.equal(info.state.messages, 50)
})

test('backend jetstream - a new record given the seq of one lost in a power cut is stored, not dropped as its duplicate', async () => {
  // After a power cut the spool gives the seqs of its lost unsynced tail out again (disk-spool.ts,
  // invariant 3). The lost record may already be in the stream: the new one under its seq must not be
  // taken for a copy of it, while a real copy (the same record sent again) still is.
  const subject = uniqueName('reused-seq')
  const name = `S-${subject}`
  closers.push(() => deleteStream(name))
  const backend = open(createJetStreamBackend, jsConfig([subject], name))
  await backend.connect()
  const [lost] = makeRecords(subject, [Buffer.from('sent, then lost with the unsynced tail')])
  const reused = {
    ...lost!,
    payload: Buffer.from('received after the restart'),
    receivedAt: lost!.receivedAt + 5_000,
  }
  await backend.send([lost!])
  await backend.send([reused])
  await backend.send([reused]) // the forwarder's retry of a send it could not confirm
  const info = await streamInfo(name)
  assert.equal(info.state.messages, 2, 'the lost record and the new one, the retry dropped')
})

test('backend jetstream - an existing stream with other subjects is updated to capture ours', async () => {
  const old = uniqueName('old')
  const added = uniqueName('added')
  const name = `S-${old}`
  closers.push(() => deleteStream(name))
  const nc = await connect({ servers: testNatsUrl() })
  await (await jetstreamManager(nc)).streams.add({ name, subjects: [old] })
  await nc.close()
  const backend = open(createJetStreamBackend, jsConfig([old, added], name))
  await backend.connect()
  await backend.send(makeRecords(added, [Buffer.from('x')]))
  const info = await streamInfo(name)
  assert.deepEqual([...info.config.subjects].sort(), [old, added].sort())
  assert.equal(info.state.messages, 1)
})

test('backend jetstream - a subject no stream captures is a non-retriable outage, not a rejection of the record', async () => {
  const backend = open(createJetStreamBackend, jsConfig([], 'UNUSED', [testNatsUrl()], false))
  await backend.connect()
  await assert.rejects(
    backend.send(makeRecords(uniqueName('nostream'), [Buffer.from('x')])),
    rejectsWith('BACKEND_UNAVAILABLE', false),
  )
})

test('backend jetstream - the stream is created once NATS comes up after a start without it', async () => {
  const server = await startNatsServer()
  closers.push(() => server.close())
  await server.stop()
  const subject = uniqueName('late-stream')
  const name = `S-${subject}`
  const backend = open(createJetStreamBackend, jsConfig([subject], name, [server.url]))
  await backend.connect()
  await assert.rejects(
    backend.send(makeRecords(subject, [Buffer.from('x')])),
    rejectsWith('BACKEND_UNAVAILABLE', true),
  )
  await server.start()
  await waitFor(
    () => backend.isConnected(),
    20_000,
    () => 'the first connect to succeed',
  )
  await backend.send(makeRecords(subject, [Buffer.from('x')]))
  const info = await streamInfo(name, server.url)
  assert.equal(info.state.messages, 1)
})
