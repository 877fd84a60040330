import * as f from '../formats.js'
import { leaf, type Section } from './leaf.js'

export const securitySection: Section = {
  passwordFile: leaf({
    doc: 'Password file in mosquitto_passwd format; empty = no password file (then only anonymous clients, where allowed, can connect). Once set, anonymous clients are refused on every listener that does not set allowAnonymous itself (as Mosquitto 2).',
    format: f.filePath,
    default: '',
  }),
  aclFile: leaf({
    doc: 'ACL file in Mosquitto acl_file format; empty = every authenticated client may read and write any topic but $SYS/.',
    format: f.filePath,
    default: '',
  }),
  maxConnections: leaf({
    doc: 'Most client connections across all listeners; 0 = unlimited.',
    format: f.nonNegativeInt,
    default: 1024,
  }),
  maxInflightPerClient: leaf({
    doc: 'Unacknowledged inbound QoS 1/2 publishes per client; beyond it the client is no longer read from until acknowledgements catch up.',
    format: f.positiveInt,
    default: 100,
  }),
  publishRatePerSecond: leaf({
    doc: 'Token-bucket rate per client, publishes per second; 0 = no limit. Over the limit a client is slowed, not dropped.',
    format: f.nonNegativeInt,
    default: 0,
  }),
  publishBurst: leaf({
    doc: 'Bucket size of the per-client rate limit; 0 = equal to publishRatePerSecond.',
    format: f.nonNegativeInt,
    default: 0,
  }),
  flapping: {
    maxConnects: leaf({
      doc: 'Connects from one client id or address within windowMs after which it is refused for banMs; 0 = off.',
      format: f.nonNegativeInt,
      default: 0,
    }),
    windowMs: leaf({ doc: 'Window of the flapping count.', format: f.durationMs, default: 10000 }),
    banMs: leaf({ doc: 'How long a flapping client is refused.', format: f.durationMs, default: 60000 }),
  },
}
