/**
 * `edgebridge audit` against real cores: a record deliberately missing from a JetStream stream (deleted
 * by sequence), a Redis stream (XDEL) and a Kafka topic (a seq never produced: Kafka can only delete a
 * prefix) is reported as an unexplained gap (exit 1); the same gap named by a loss ledger is explained
 * (exit 0); duplicates and a device's records out of order are found; bad arguments get one line and
 * their exit code.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect, headers } from '@nats-io/transport-node'
import { Redis } from 'ioredis'
import { Kafka, logLevel } from 'kafkajs'
import type { AuditReport } from '../../src/audit/audit-report.js'
import { edgebridgeCli } from '../support/edgebridge-cli.js'
import { testKafkaBrokers, testNatsUrl, testRedisUrl, uniqueName } from '../support/env.js'

/** A gateway's records: seq 1..count, devices taking turns, minus `skip`. */
function gatewaySeqs(count: number, skip: number[] = []): Array<{ seq: number; clientId: string }> {
  const out: Array<{ seq: number; clientId: string }> = []
  for (let seq = 1; seq <= count; seq++)
    if (!skip.includes(seq)) out.push({ seq, clientId: `dev-${seq % 3}` })
  return out
}

let dir: string
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edgebridge-audit-'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function ledgerFile(gatewayId: string, fromSeq: number, toSeq: number): Promise<string> {
  const path = join(dir, `${uniqueName('ledger')}.jsonl`)
  const line = {
    v: 1,
    at: new Date().toISOString(),
    gatewayId,
    reason: 'drop-oldest',
    count: toSeq - fromSeq + 1,
    fromSeq,
    toSeq,
  }
  await writeFile(path, JSON.stringify(line) + '\n')
  return path
}

async function auditJson(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; report: AuditReport; stderr: string }> {
  const out = await edgebridgeCli(['audit', ...args, '--json'], env)
  assert.notEqual(out.stdout, '', `audit printed a report (stderr: ${out.stderr})`)
  return { code: out.code, report: JSON.parse(out.stdout) as AuditReport, stderr: out.stderr }
}

describe('audit - edgebridge audit at the core', () => {
  it('audit - a message deleted from a JetStream stream is an unexplained gap until a ledger names it', async () => {
    const nc = await connect({ servers: testNatsUrl() })
    const stream = uniqueName('audit')
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] })
    try {
      const js = jsm.jetstream()
      for (const r of gatewaySeqs(200)) {
        const h = headers()
        h.set('gateway.id', 'gw-js')
        h.set('seq', String(r.seq))
        h.set('client.id', r.clientId)
        await js.publish(`${stream}.t`, 'x', { headers: h })
      }
      // Stream sequence n holds seq n: delete seq 57.
      assert.equal(await jsm.streams.deleteMessage(stream, 57), true)
      const env = { EDGEBRIDGE_BACKEND: 'jetstream', EDGEBRIDGE_NATS_SERVERS: testNatsUrl() }
      const failed = await auditJson([stream], env)
      assert.equal(failed.code, 1)
      const [gw] = failed.report.gateways
      assert.equal(gw?.gatewayId, 'gw-js')
      assert.equal(gw?.distinct, 199)
      assert.equal(gw?.gaps, 1)
      assert.deepEqual(gw?.unexplained, [{ from: 57, to: 57 }])
      assert.equal(gw?.reorders, 0)

      const explained = await auditJson([stream, '--ledger', await ledgerFile('gw-js', 57, 57)], env)
      assert.equal(explained.code, 0, explained.stderr)
      assert.equal(explained.report.gateways[0]?.explainedMissing, 1)
      assert.equal(explained.report.gateways[0]?.unexplainedMissing, 0)

      // A ledger of another gateway explains nothing here.
      const other = await auditJson([stream, '--ledger', await ledgerFile('gw-other', 57, 57)], env)
      assert.equal(other.code, 1)
    } finally {
      await jsm.streams.delete(stream).catch(() => undefined)
      await nc.close()
    }
  })

  it('audit - XDEL from a Redis stream is a gap; duplicates are counted and a reorder fails the audit', async () => {
    const redis = new Redis(testRedisUrl())
    const key = uniqueName('audit')
    try {
      const ids: string[] = []
      for (const r of gatewaySeqs(100)) {
        ids.push(
          (await redis.xadd(
            key,
            '*',
            'payload',
            'x',
            'client.id',
            r.clientId,
            'gateway.id',
            'gw-r',
            'seq',
            String(r.seq),
          ))!,
        )
      }
      await redis.xdel(key, ids[9]!, ids[10]!) // seqs 10 and 11
      const env = { EDGEBRIDGE_BACKEND: 'redis-streams', EDGEBRIDGE_REDIS_URL: testRedisUrl() }
      const gap = await auditJson([key], env)
      assert.equal(gap.code, 1)
      assert.deepEqual(gap.report.gateways[0]?.unexplained, [{ from: 10, to: 11 }])
      assert.equal(gap.report.gateways[0]?.missing, 2)

      const explained = await auditJson([key, '--ledger', await ledgerFile('gw-r', 10, 11)], env)
      assert.equal(explained.code, 0)

      // A batch sent again (duplicates: allowed), then one device's earlier seq after its later one.
      for (const seq of [99, 100])
        await redis.xadd(
          key,
          '*',
          'payload',
          'x',
          'client.id',
          `dev-${seq % 3}`,
          'gateway.id',
          'gw-r',
          'seq',
          String(seq),
        )
      const duplicates = await auditJson([key, '--ledger', await ledgerFile('gw-r', 10, 11)], env)
      assert.equal(duplicates.code, 0)
      assert.equal(duplicates.report.gateways[0]?.duplicates, 2)
      await redis.xadd(key, '*', 'payload', 'x', 'client.id', 'dev-1', 'gateway.id', 'gw-r', 'seq', '102')
      await redis.xadd(key, '*', 'payload', 'x', 'client.id', 'dev-1', 'gateway.id', 'gw-r', 'seq', '101')
      const reordered = await auditJson([key, '--ledger', await ledgerFile('gw-r', 10, 11)], env)
      assert.equal(reordered.code, 1)
      assert.equal(reordered.report.gateways[0]?.reorders, 1)
    } finally {
      await redis.del(key)
      redis.disconnect()
    }
  })

  it('audit - a seq never produced to a Kafka topic is a gap, per gateway, across partitions', async () => {
    const kafka = new Kafka({
      brokers: testKafkaBrokers(),
      clientId: 'audit-test',
      logLevel: logLevel.NOTHING,
    })
    const topic = uniqueName('audit')
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })
    const producer = kafka.producer()
    await producer.connect()
    try {
      for (const gateway of ['gw-k1', 'gw-k2']) {
        const skip = gateway === 'gw-k1' ? [500] : []
        const messages = gatewaySeqs(1000, skip).map((r) => ({
          key: r.clientId,
          value: 'x',
          headers: { 'gateway.id': gateway, seq: String(r.seq), 'client.id': r.clientId },
        }))
        await producer.send({ topic, messages })
      }
      await producer.send({ topic, messages: [{ value: 'not from a gateway' }] })
      const env = { EDGEBRIDGE_BACKEND: 'kafka', EDGEBRIDGE_KAFKA_BROKERS: testKafkaBrokers().join(',') }
      const out = await auditJson([topic], env)
      assert.equal(out.code, 1)
      assert.equal(out.report.records, 2000)
      assert.equal(out.report.withoutProvenance, 1)
      const [k1, k2] = out.report.gateways
      assert.deepEqual(k1?.unexplained, [{ from: 500, to: 500 }])
      assert.equal(k1?.reorders, 0)
      assert.equal(k2?.gaps, 0)
      assert.equal(k2?.distinct, 1000)

      const explained = await auditJson([topic, '--ledger', await ledgerFile('gw-k1', 500, 500)], env)
      assert.equal(explained.code, 0)
      const onlyK2 = await auditJson([topic, '--gateway', 'gw-k2'], env)
      assert.equal(onlyK2.code, 0)
      assert.equal(onlyK2.report.gateways.length, 1)
    } finally {
      await producer.disconnect()
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
      await admin.disconnect()
    }
  })

  it('audit - bad arguments get one clear line and their exit code', async () => {
    const cases: Array<{ args: string[]; env?: Record<string, string>; code: number; line: RegExp }> = [
      { args: ['t', '--core.backend=foo'], code: 78, line: /core\.backend: "foo" is not valid/ },
      { args: ['t', '--core.backend=nats'], code: 64, line: /at-most-once/ },
      { args: ['t', '--core.backend=redis'], code: 64, line: /at-most-once/ },
      { args: [], code: 64, line: /expects one topic/ },
      {
        args: ['t', '--core.backend=redis-streams', '--redis.url=redis://127.0.0.1:1'],
        code: 69,
        line: /cannot reach Redis/,
      },
      {
        args: ['t', '--core.backend=jetstream', '--nats.servers=nats://127.0.0.1:1'],
        code: 69,
        line: /cannot reach NATS/,
      },
      {
        args: ['t', '--core.backend=kafka', '--kafka.brokers=127.0.0.1:1'],
        code: 69,
        line: /cannot reach Kafka/,
      },
      {
        args: [uniqueName('none'), '--core.backend=redis-streams', `--redis.url=${testRedisUrl()}`],
        code: 66,
        line: /does not exist/,
      },
      {
        args: ['t', '--core.backend=redis-streams', '--ledger', join(dir, 'missing.jsonl')],
        code: 66,
        line: /cannot read the loss ledger .*missing\.jsonl/,
      },
    ]
    for (const c of cases) {
      const out = await edgebridgeCli(['audit', ...c.args], c.env ?? {})
      assert.equal(out.code, c.code, `${c.args.join(' ')}: ${out.stderr}`)
      assert.match(out.stderr, c.line)
      if (c.code !== 64) assert.equal(out.stderr.trim().split('\n').length, 1, `one line: ${out.stderr}`)
    }
  })
})
