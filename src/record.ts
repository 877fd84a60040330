/**
 * The Record that flows from ingress through the spool to a backend.
 *
 * Ingress builds a RecordInput from an MQTT PUBLISH and the router fills in where it goes (`target`,
 * `key`, `codec`). The spool assigns `seq` on append: a per-gateway sequence number that only grows,
 * also across restarts (the durable spool recovers it), so `recordId()` names a record per gateway and
 * the `seq` header carries it. One exception: after a power cut the seqs of a lost unsynced tail are
 * given out again (spool/disk-spool.ts, invariant 3), so what a core de-duplicates on is
 * `deduplicationId()`, which tells such a record from the lost one.
 */

export type QoS = 0 | 1 | 2

/** How a backend encodes the value: the raw payload, or an envelope carrying payload + provenance. */
export type Codec = 'raw' | 'json' | 'msgpack' | 'cloudevents'

export interface RecordInput {
  /** MQTT topic the device published to. */
  topic: string
  payload: Buffer
  qos: QoS
  retain: boolean
  clientId: string
  /** The username the device authenticated with, when it gave one. */
  username?: string
  gatewayId: string
  /** Milliseconds since the epoch when the broker received the PUBLISH. */
  receivedAt: number
  /** Core name: Kafka topic, NATS subject, Redis channel or stream key. */
  target: string
  /** Kafka message key (per device by default); other backends ignore it. */
  key?: string
  codec: Codec
}

export interface SpooledRecord extends RecordInput {
  /** Assigned by the spool; strictly increasing per gateway. */
  seq: number
}

/** The id of a record across the gateway's life: `<gateway id>:<seq>` (the CloudEvents id). */
export function recordId(record: Pick<SpooledRecord, 'gatewayId' | 'seq'>): string {
  return `${record.gatewayId}:${record.seq}`
}

/**
 * What a core de-duplicates a record on (JetStream msgID): `<gateway id>:<seq>:<receivedAt>`.
 *
 * Every copy of one record has it (a batch sent again, a record sent again after a restart: the
 * receive time is in the spooled frame), so the core drops them. A record that got the seq of one lost
 * in a power cut (sent, not yet fsynced) has another receive time, so the core stores it instead of
 * dropping it as a duplicate of the lost one, which would lose a record the device was acknowledged
 * for. (Not a boot epoch: that would turn every record sent again after a kill -9 into a duplicate at
 * the core.) Only a new record received in the very millisecond of the lost one, after the clock went
 * back, would collide.
 */
export function deduplicationId(record: Pick<SpooledRecord, 'gatewayId' | 'seq' | 'receivedAt'>): string {
  return `${recordId(record)}:${record.receivedAt}`
}

/**
 * The names of the provenance fields, one spelling on every backend: Kafka and NATS headers, Redis
 * stream fields and the keys of the json/msgpack envelopes. Consumers match on these strings (README,
 * "Routing"), so they never change.
 */
export const PROVENANCE = {
  topic: 'mqtt.topic',
  qos: 'mqtt.qos',
  retain: 'mqtt.retain',
  clientId: 'client.id',
  gatewayId: 'gateway.id',
  receivedAt: 'received.at',
  seq: 'seq',
  username: 'mqtt.username',
} as const

/**
 * Provenance as strings, under PROVENANCE's names. Order of keys is fixed so consumers that print
 * headers or fields see them the same way every time. Built per send, not cached per record: a record
 * is sent once but for a retried batch, and a cache keyed by record (a WeakMap) cost more at full load
 * than building these few strings again.
 */
export function provenanceHeaders(record: SpooledRecord): Record<string, string> {
  const headers: Record<string, string> = {
    [PROVENANCE.topic]: record.topic,
    [PROVENANCE.qos]: String(record.qos),
    [PROVENANCE.retain]: record.retain ? 'true' : 'false',
    [PROVENANCE.clientId]: record.clientId,
    [PROVENANCE.gatewayId]: record.gatewayId,
    [PROVENANCE.receivedAt]: isoTime(record.receivedAt),
    [PROVENANCE.seq]: String(record.seq),
  }
  if (record.username !== undefined) headers[PROVENANCE.username] = record.username
  return headers
}

/**
 * `receivedAt` as an ISO 8601 string. Records of one batch were mostly received in the same
 * millisecond, so the last conversion is kept and reused.
 */
export function isoTime(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIsoMs = ms
    lastIso = new Date(ms).toISOString()
  }
  return lastIso
}
let lastIsoMs = Number.NaN
let lastIso = ''

/** Approximate bytes a record occupies, for batch and spool limits (payload dominates). */
export function recordSize(record: RecordInput): number {
  return (
    record.payload.length +
    record.topic.length +
    record.target.length +
    record.clientId.length +
    (record.key?.length ?? 0) +
    (record.username?.length ?? 0) +
    record.gatewayId.length +
    32
  )
}
