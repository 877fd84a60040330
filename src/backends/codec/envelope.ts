/**
 * Envelopes: the value of a core message when a route chooses the `json` or `msgpack` codec instead of
 * the raw payload. Both carry the same fields, under the provenance names every backend uses
 * (record.ts, PROVENANCE), so a consumer can switch codecs or cores without remapping:
 *
 *   { "mqtt.topic", "mqtt.qos" (number), "mqtt.retain" (boolean), "client.id", "mqtt.username"?,
 *     "gateway.id", "received.at" (ISO 8601), "seq" (number), payload }
 *
 * `json`: `payload` is base64 (JSON has no bytes) and `payloadEncoding` says so.
 * `msgpack`: `payload` is msgpack bin, the envelope a plain map, no extension types: any msgpack
 * reader in any language decodes it. (@msgpack/msgpack is pure TypeScript: no native add-on to build
 * or download on a gateway.)
 */
import { encode } from '@msgpack/msgpack'
import { PROVENANCE, type SpooledRecord } from '../../record.js'

/** Provenance with its JSON types: numbers and booleans stay numbers and booleans. */
function fields(record: SpooledRecord): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {
    [PROVENANCE.topic]: record.topic,
    [PROVENANCE.qos]: record.qos,
    [PROVENANCE.retain]: record.retain,
    [PROVENANCE.clientId]: record.clientId,
    [PROVENANCE.gatewayId]: record.gatewayId,
    [PROVENANCE.receivedAt]: new Date(record.receivedAt).toISOString(),
    [PROVENANCE.seq]: record.seq,
  }
  if (record.username !== undefined) out[PROVENANCE.username] = record.username
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
