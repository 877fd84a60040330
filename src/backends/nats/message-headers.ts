/** NATS message headers for a record: the shared provenance names (record.ts), same as Kafka's. */
import { headers, type MsgHdrs } from '@nats-io/transport-node'
import { provenanceHeaders, type SpooledRecord } from '../../record.js'

export function messageHeaders(record: SpooledRecord): MsgHdrs {
  const h = headers()
  for (const [k, v] of Object.entries(provenanceHeaders(record))) h.set(k, v)
  return h
}
