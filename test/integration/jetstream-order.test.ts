/**
 * Per-device order at the core through a failed publish (DESIGN.md invariant 3), on one NATS server.
 *
 * The JetStream backend pipelines a batch's publishes. When one publish fails (its stream leader is
 * gone, its connection dropped) while later ones of the batch are stored, the forwarder sends the whole
 * batch again: the stored ones come back as duplicates (msgID), and the failed one is stored now, after
 * records that were published after it. In a 3-node cluster whose leader is bounced that showed up as
 * per-device order violations at the core with nothing lost.
 *
 * Here the failure is made certain: one record goes to a subject the stream does not capture yet, so
 * its publish fails at once ("no responders") while the others succeed; then the stream is given that
 * subject (the leader is back) and the batch is sent again, as the forwarder would.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { createJetStreamBackend } from '../../src/backends/nats/jetstream-backend.js'
import { PROVENANCE, type SpooledRecord } from '../../src/record.js'
import { silentLogger } from '../../src/observability/logger.js'
import { makeRecords } from '../conformance/suite.js'
import { testConfig } from '../support/config.js'
import { testNatsUrl, uniqueName } from '../support/env.js'

const nc = await connect({ servers: testNatsUrl() })
const jsm = await jetstreamManager(nc)
const streams: string[] = []
after(async () => {
  for (const name of streams) await jsm.streams.delete(name).catch(() => undefined)
  await nc.close()
})

/** Per client id, the record seqs in the order the stream stored them (first occurrences). */
async function orderInStream(name: string): Promise<Map<string, number[]>> {
  const info = await jsm.streams.info(name)
  const byDevice = new Map<string, number[]>()
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(name, { seq })
    if (m === null) continue
    const device = m.header.get(PROVENANCE.clientId)
    const recordSeq = Number(m.header.get(PROVENANCE.seq))
    const seen = byDevice.get(device) ?? []
    if (!seen.includes(recordSeq)) seen.push(recordSeq)
    byDevice.set(device, seen)
  }
  return byDevice
}

test('backend jetstream - a publish that fails mid-batch lets no later record of its device be stored before it', async () => {
  const prefix = uniqueName('order')
  const name = `S-${prefix}`
  const stored = `${prefix}.stored`
  const failing = `${prefix}.failing`
  await jsm.streams.add({ name, subjects: [stored] })
  streams.push(name)
  const backend = createJetStreamBackend(
    testConfig({
      core: { backend: 'jetstream' },
      nats: { stream: { name, subjects: [stored], create: false } },
    }),
    { logger: silentLogger() },
  )
  after(() => backend.close())
  await backend.connect()

  // Two devices, interleaved as the spool holds them; device a's second record is the one that fails.
  const batch: SpooledRecord[] = []
  for (let i = 0; i < 40; i++) {
    for (const device of ['a', 'b']) {
      const target = device === 'a' && i === 1 ? failing : stored
      batch.push(...makeRecords(target, [Buffer.from(`${device}${i}`)], { clientId: device, key: device }))
    }
  }
  await assert.rejects(backend.send(batch), 'the publish to the uncaptured subject fails')

  await jsm.streams.update(name, { subjects: [stored, failing] })
  await backend.send(batch) // the forwarder's retry of the whole batch

  const order = await orderInStream(name)
  for (const device of ['a', 'b']) {
    const expected = batch.filter((r) => r.clientId === device).map((r) => r.seq)
    assert.deepEqual(order.get(device), expected, `device ${device}: stored in the order it published`)
  }
})
