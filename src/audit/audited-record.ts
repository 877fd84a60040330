/** What every audit source yields and how it is opened (audit-source.ts holds the table of sources). */
import type { EdgebridgeConfig } from '../config/types.js'

/** One record as the audit needs it; `null` fields when the record carries no edgebridge provenance. */
export interface AuditedRecord {
  gatewayId: string | undefined
  seq: number | undefined
  clientId: string | undefined
}

export interface StartPoint {
  /** Kafka: offset in every partition; JetStream: stream sequence; Redis: entry id. */
  offset?: string
  /** Milliseconds since the epoch: the first record at or after it (Kafka, JetStream). */
  time?: number
}

export interface AuditSource {
  /** Records between the start point and the snapshot, when the core can tell (for progress). */
  readonly expected: number | undefined
  /** A description for the report: "topic t (3 partitions)". */
  readonly description: string
  records(): AsyncIterable<AuditedRecord>
  close(): Promise<void>
}

export type OpenSource = (config: EdgebridgeConfig, name: string, from: StartPoint) => Promise<AuditSource>

/** The seq of a provenance value (a header or field is text); undefined when it is not one. */
export function parseSeq(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  return Number.isSafeInteger(n) && n > 0 ? n : undefined
}
