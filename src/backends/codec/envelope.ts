/**
 * Envelopes: the value of a core message when a route chooses the `json` or `msgpack` codec instead of
 * the raw payload. Both carry the same fields, so a consumer can switch codecs without remapping:
 *
 *   { topic, qos, retain, clientId, username?, gatewayId, receivedAt (ISO 8601), seq, payload }
 *
 * `json`: `payload` is base64 (JSON has no bytes) and `payloadEncoding` says so.
 * `msgpack`: `payload` is msgpack bin, the envelope a plain map, no extension types: any msgpack
 * reader in any language decodes it. (@msgpack/msgpack is pure TypeScript: no native add-on to build
 * or download on a gateway.)
 */
import { encode } from '@msgpack/msgpack'
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
  const packed = encode({ ...fields(record), payload: record.payload })
  return Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength)
}
