/** NATS message headers for a record: the shared provenance names (record.ts), same as Kafka's. */
import { headers, type MsgHdrs } from '@nats-io/transport-node'
import type { DownlinkMessage } from '../backend.js'
import { provenanceHeaders, type SpooledRecord } from '../../record.js'

export function messageHeaders(record: SpooledRecord): MsgHdrs {
  const h = headers()
  for (const [k, v] of Object.entries(provenanceHeaders(record))) h.set(k, v)
  return h
}

/** A NATS or JetStream message as the downlink takes it, its headers as plain strings. */
export function downlinkMessage(
  source: string,
  m: { subject: string; data: Uint8Array; headers?: MsgHdrs },
): DownlinkMessage {
  const fields: Record<string, string> = {}
  if (m.headers !== undefined) for (const k of m.headers.keys()) fields[k] = m.headers.get(k)
  return { source, subject: m.subject, payload: Buffer.from(m.data), headers: fields }
}
