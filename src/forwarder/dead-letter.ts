/**
 * Where a record goes that the core refuses for good (BACKEND_REJECTED for that one record: too
 * large for Kafka's message.max.bytes, a subject no stream captures, a codec the backend cannot
 * write). Retrying it would stop every later record behind it forever; dropping it would break the
 * promise. So it is appended, fsynced, to `<dataDir>/dead-letter.jsonl` (one JSON object a line: the
 * record with its payload in base64, the reason and the time), counted and logged, and the
 * forwarder moves on. An operator can replay the file once the core is fixed. Its seq is then
 * written to the loss ledger too (loss-ledger.ts), so the gap it leaves at the core is explained.
 */
import { open } from 'node:fs/promises'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { SpooledRecord } from '../record.js'
import type { LossLedger } from './loss-ledger.js'

export interface DeadLetterSink {
  /** Resolves once the record is durably written. */
  put(record: SpooledRecord, reason: string): Promise<void>
}

export class DeadLetterFile implements DeadLetterSink {
  constructor(
    readonly path: string,
    private readonly ledger?: LossLedger,
  ) {}

  async put(record: SpooledRecord, reason: string): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true })
    const line =
      JSON.stringify({
        deadLetteredAt: new Date().toISOString(),
        reason,
        ...record,
        payload: record.payload.toString('base64'),
      }) + '\n'
    const file = await open(this.path, 'a', 0o640)
    try {
      await file.appendFile(line)
      await file.sync()
    } finally {
      await file.close()
    }
    await this.ledger?.record({
      reason: 'dead-letter',
      count: 1,
      fromSeq: record.seq,
      toSeq: record.seq,
      clientId: record.clientId,
      topic: record.topic,
      cause: reason,
    })
  }
}
