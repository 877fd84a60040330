/**
 * A record as a Kafka message: key, value and headers, by the record's codec.
 *
 * Every codec carries the provenance headers (record.ts, provenanceHeaders). The value is:
 * - `raw`: the MQTT payload as it arrived.
 * - `json` / `msgpack`: an envelope with provenance and payload (backends/codec/envelope.ts).
 * - `cloudevents`: CloudEvents 1.0 Kafka protocol binding, binary content mode: the payload is the
 *   value and the event attributes are `ce_`-prefixed headers. `ce_id` is the record id, unique per
 *   gateway, so consumers can de-duplicate redeliveries.
 */
import { provenanceHeaders, recordId, type SpooledRecord } from '../../record.js'
import { jsonEnvelope, msgpackEnvelope } from '../codec/envelope.js'

/** CloudEvents `type` of an MQTT message forwarded by edgebridge. */
export const CLOUDEVENTS_TYPE = 'io.edgebridge.mqtt.message'

export interface KafkaMessage {
  key: string | null
  value: Buffer
  headers: Record<string, string>
}

export function toKafkaMessage(record: SpooledRecord): KafkaMessage {
  const headers = provenanceHeaders(record)
  const key = record.key ?? null
  switch (record.codec) {
    case 'raw':
      return { key, value: record.payload, headers }
    case 'json':
      return { key, value: jsonEnvelope(record), headers }
    case 'msgpack':
      return { key, value: msgpackEnvelope(record), headers }
    case 'cloudevents':
      return {
        key,
        value: record.payload,
        headers: {
          ce_specversion: '1.0',
          ce_id: recordId(record),
          ce_source: record.gatewayId,
          ce_type: CLOUDEVENTS_TYPE,
          ce_time: new Date(record.receivedAt).toISOString(),
          ce_subject: record.topic,
          ...headers,
        },
      }
    default: {
      const unknown: never = record.codec
      throw new TypeError(`unknown codec ${String(unknown)}`)
    }
  }
}
