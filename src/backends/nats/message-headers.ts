/** NATS message headers for a record: the shared provenance names (record.ts), same as Kafka's. */
import { headers, type MsgHdrs } from '@nats-io/transport-node'
import type { DownlinkMessage } from '../backend.js'
import { provenanceHeaders, type SpooledRecord } from '../../record.js'

/** Each record's headers (and, for core NATS, their wire bytes), built once per record. */
const headersOf = new WeakMap<SpooledRecord, MsgHdrs>()
const encodedOf = new WeakMap<SpooledRecord, MsgHdrs>()

function build(record: SpooledRecord): MsgHdrs {
  const h = headers()
  for (const [k, v] of Object.entries(provenanceHeaders(record))) h.set(k, v)
  return h
}

/**
 * The record's provenance as NATS headers, built once per record. JetStream's publish adds its msgID
 * header to the object (the same value each time the record is sent), so it is encoded per publish.
 */
export function messageHeaders(record: SpooledRecord): MsgHdrs {
  let h = headersOf.get(record)
  if (h === undefined) {
    h = build(record)
    headersOf.set(record, h)
  }
  return h
}

/**
 * The record's provenance as NATS headers for a core NATS publish, encoded once per record: the
 * publish only asks for the wire bytes, so every send of the record (a retried batch) reuses them.
 * Nothing may set a header on the object afterwards.
 */
export function encodedMessageHeaders(record: SpooledRecord): MsgHdrs {
  let h = encodedOf.get(record)
  if (h === undefined) {
    h = build(record)
    // nats.js turns a publish's headers into bytes with their encode() (nats-core's protocol.js); it
    // is not in the MsgHdrs type, so where it is missing the headers are simply encoded per publish.
    const encodable = h as MsgHdrs & { encode?: () => Uint8Array }
    if (typeof encodable.encode === 'function') {
      const bytes = encodable.encode()
      encodable.encode = () => bytes
    }
    encodedOf.set(record, h)
  }
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
