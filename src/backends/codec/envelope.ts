/**
 * Envelopes: the value of a core message when a route chooses the `json` or `msgpack` codec instead of
 * the raw payload. Both carry the same fields, so a consumer can switch codecs without remapping:
 *
 *   { topic, qos, retain, clientId, username?, gatewayId, receivedAt (ISO 8601), seq, payload }
 *
 * `json`: `payload` is base64 (JSON has no bytes) and `payloadEncoding` says so.
 * `msgpack`: `payload` is msgpack bin. Encoded with plain maps (`useRecords: false`), never msgpackr's
 * record extension, so any msgpack reader in any language decodes it.
 */
import { Packr } from 'msgpackr'
import type { SpooledRecord } from '../../record.js'

export interface EnvelopeFields {
  topic: string
  qos: number
  retain: boolean
  clientId: string
  username?: string
  gatewayId: string
  receivedAt: string
  seq: number
}

const packr = new Packr({ useRecords: false })

function fields(record: SpooledRecord): EnvelopeFields {
  const out: EnvelopeFields = {
    topic: record.topic,
    qos: record.qos,
    retain: record.retain,
    clientId: record.clientId,
    gatewayId: record.gatewayId,
    receivedAt: new Date(record.receivedAt).toISOString(),
    seq: record.seq,
  }
  if (record.username !== undefined) out.username = record.username
  return out
}

export function jsonEnvelope(record: SpooledRecord): Buffer {
  return Buffer.from(
    JSON.stringify({
      ...fields(record),
      payloadEncoding: 'base64',
      payload: record.payload.toString('base64'),
    }),
  )
}

export function msgpackEnvelope(record: SpooledRecord): Buffer {
  return packr.pack({ ...fields(record), payload: record.payload })
}
