/**
 * The Record that flows from ingress through the spool to a backend.
 *
 * Ingress builds a RecordInput from an MQTT PUBLISH and the router fills in where it goes (`target`,
 * `key`, `codec`). The spool assigns `seq` on append: a per-gateway sequence number that only grows,
 * also across restarts (the durable spool recovers it), so `recordId()` is unique per gateway and is
 * what JetStream deduplicates on and what the `seq` header carries.
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

/** Unique id of a record across the gateway's life: used as JetStream msgID and for de-duplication. */
export function recordId(record: Pick<SpooledRecord, 'gatewayId' | 'seq'>): string {
  return `${record.gatewayId}:${record.seq}`
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
 * headers or fields see them the same way every time.
 */
export function provenanceHeaders(record: SpooledRecord): Record<string, string> {
  const headers: Record<string, string> = {
    [PROVENANCE.topic]: record.topic,
    [PROVENANCE.qos]: String(record.qos),
    [PROVENANCE.retain]: record.retain ? 'true' : 'false',
    [PROVENANCE.clientId]: record.clientId,
    [PROVENANCE.gatewayId]: record.gatewayId,
    [PROVENANCE.receivedAt]: new Date(record.receivedAt).toISOString(),
    [PROVENANCE.seq]: String(record.seq),
  }
  if (record.username !== undefined) headers[PROVENANCE.username] = record.username
  return headers
}

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
