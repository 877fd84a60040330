/** NATS message headers for a record: the shared provenance names (record.ts), same as Kafka's. */
import { headers, type MsgHdrs } from '@nats-io/transport-node'
import type { DownlinkMessage } from '../backend.js'
import { provenanceHeaders, type SpooledRecord } from '../../record.js'

/** The record's provenance as a NATS headers object (JetStream's publish adds its msgID to it). */
export function messageHeaders(record: SpooledRecord): MsgHdrs {
  const h = headers()
  for (const [k, v] of Object.entries(provenanceHeaders(record))) h.set(k, v)
  return h
}

/**
 * The record's provenance as headers for a core NATS publish, written straight into their wire form.
 *
 * nats.js' headers object validates and canonicalises each name and keeps a Map of arrays; its core
 * publish only asks it for the bytes (`encode()`, nats-core's protocol.js). At full load building that
 * object per record was about a tenth of the gateway's CPU, so for core NATS the header block is
 * written here as nats.js would write it ("NATS/1.0", then `name: value` lines, values trimmed, a blank
 * line) and handed over as an object that only encodes. A value nats.js would refuse (CR or LF, which
 * an MQTT topic may hold) goes through nats.js' own headers, so it fails the same way.
 */
export function encodedMessageHeaders(record: SpooledRecord): MsgHdrs {
  const provenance = provenanceHeaders(record)
  let block = 'NATS/1.0'
  // for...in, not Object.entries: no array per field on the per-record path.
  for (const k in provenance) {
    const v = provenance[k] as string
    if (CR_OR_LF.test(v)) return messageHeaders(record)
    block += `\r\n${k}: ${v.trim()}`
  }
  const bytes = Buffer.from(`${block}\r\n\r\n`, 'utf8')
  return { encode: () => bytes } as unknown as MsgHdrs
}

const CR_OR_LF = /[\r\n]/

/** A NATS or JetStream message as the downlink takes it, its headers as plain strings. */
export function downlinkMessage(
  source: string,
  m: { subject: string; data: Uint8Array; headers?: MsgHdrs },
): DownlinkMessage {
  const fields: Record<string, string> = {}
  if (m.headers !== undefined) for (const k of m.headers.keys()) fields[k] = m.headers.get(k)
  return { source, subject: m.subject, payload: Buffer.from(m.data), headers: fields }
}
