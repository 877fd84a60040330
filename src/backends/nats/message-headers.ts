/** NATS message headers for a record: the shared provenance names (record.ts), same as Kafka's. */
import { headers, type MsgHdrs } from '@nats-io/transport-node'
import { BackendError } from '../../errors.js'
import { provenanceHeaders, type SpooledRecord } from '../../record.js'

export function messageHeaders(record: SpooledRecord): MsgHdrs {
  const h = headers()
  for (const [k, v] of Object.entries(provenanceHeaders(record))) h.set(k, v)
  return h
}

/** NATS carries provenance in headers and the payload raw; envelope codecs are not offered here. */
export function assertRawCodec(batch: readonly SpooledRecord[], backend: string): void {
  for (const record of batch) {
    if (record.codec !== 'raw') {
      throw new BackendError(
        'BACKEND_REJECTED',
        `codec ${record.codec} is not supported by the ${backend} backend (provenance travels in headers, the ` +
          `payload raw); route ${record.topic} with codec raw`,
      )
    }
  }
}
