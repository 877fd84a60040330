import * as f from '../formats.js'
import { leaf, type Section } from './leaf.js'

/** TLS settings for a client connection to a core (Redis, NATS, Kafka). */
export function tlsClientSection(core: string): Section {
  return {
    enabled: leaf({ doc: `Connect to ${core} over TLS.`, format: f.bool, default: false }),
    caFile: leaf({
      doc: `PEM file of the CA(s) that sign ${core}'s certificate; empty = the system's trusted CAs.`,
      format: f.filePath,
      default: '',
    }),
    certFile: leaf({
      doc: 'PEM client certificate for mutual TLS; empty = none.',
      format: f.filePath,
      default: '',
    }),
    keyFile: leaf({
      doc: 'PEM private key of the client certificate; empty = none.',
      format: f.filePath,
      default: '',
    }),
    rejectUnauthorized: leaf({
      doc: `Refuse a ${core} certificate that does not verify. Turn off only for a test bench.`,
      format: f.bool,
      default: true,
    }),
  }
}
