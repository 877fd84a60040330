/**
 * The audit's JetStream source: a stream read in stream order by an ordered consumer (ephemeral,
 * server-side state only while it runs), from the first message, a stream sequence or a time, up to
 * the stream's last sequence when the audit starts.
 */
import { DeliverPolicy, jetstream, jetstreamManager, type OrderedConsumerOptions } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { natsOptions } from '../backends/nats/nats-connection.js'
import { PROVENANCE } from '../record.js'
import { AuditInputError, coreUnreachable } from './audit-errors.js'
import { parseSeq, type AuditedRecord, type OpenSource } from './audited-record.js'

/** Messages asked for per pull, and how long one pull may wait for them. */
const FETCH_MAX_MESSAGES = 1000
const FETCH_EXPIRES_MS = 2_000 // 2 s

export const openJetStreamSource: OpenSource = async (config, stream, from) => {
  const options = natsOptions(config.nats, 'edgebridge-audit')
  let nc: NatsConnection
  try {
    nc = await connect({ ...options, maxReconnectAttempts: 0, timeout: 5_000 })
  } catch (err) {
    throw coreUnreachable(`NATS at ${config.nats.servers.join(',')}`, err)
  }
  const close = () => nc.close().catch(() => undefined)
  let lastSeq: number
  let messages: number
  try {
    const info = await (await jetstreamManager(nc)).streams.info(stream).catch((err: unknown) => {
      if (/not found/i.test(String(err)))
        throw new AuditInputError(`JetStream stream ${stream} does not exist`)
      throw err
    })
    lastSeq = info.state.last_seq
    messages = info.state.messages
  } catch (err) {
    await close()
    throw err
  }
  const opts: Partial<OrderedConsumerOptions> = {}
  if (from.time !== undefined) {
    opts.deliver_policy = DeliverPolicy.StartTime
    opts.opt_start_time = new Date(from.time).toISOString()
  } else if (from.offset !== undefined) {
    opts.deliver_policy = DeliverPolicy.StartSequence
    opts.opt_start_seq = Number(from.offset)
  }

  async function* records(): AsyncGenerator<AuditedRecord> {
    if (messages === 0) return
    const consumer = await jetstream(nc).consumers.get(stream, opts)
    for (;;) {
      const batch = await consumer.fetch({ max_messages: FETCH_MAX_MESSAGES, expires: FETCH_EXPIRES_MS })
      let got = 0
      for await (const m of batch) {
        got++
        yield {
          gatewayId: m.headers?.get(PROVENANCE.gatewayId) || undefined,
          seq: parseSeq(m.headers?.get(PROVENANCE.seq)),
          clientId: m.headers?.get(PROVENANCE.clientId) || undefined,
        }
        // Done at the snapshot's last sequence, or earlier when that message was deleted.
        if (m.seq >= lastSeq || m.info.pending === 0) return
      }
      if (got === 0) return
    }
  }

  return {
    expected: from.time === undefined && from.offset === undefined ? messages : undefined,
    description: `JetStream stream ${stream}`,
    records,
    close,
  }
}
