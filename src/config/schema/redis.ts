import * as f from '../formats.js'
import { leaf, type Section } from './leaf.js'
import { tlsClientSection } from './tls-client.js'

export const redisSection: Section = {
  url: leaf({
    doc: 'Redis server URL; rediss:// for TLS.',
    format: f.redisUrl,
    default: 'redis://127.0.0.1:6379',
    env: 'EDGEBRIDGE_REDIS_URL',
  }),
  username: leaf({
    doc: 'ACL user name; empty = none (or the one in the URL).',
    format: f.string,
    default: '',
  }),
  password: leaf({
    doc: 'Password; empty = none (or the one in the URL).',
    format: f.string,
    default: '',
    secret: true,
  }),
  passwordFile: leaf({
    doc: 'File holding the password (one trailing newline is ignored), so it sits in neither the unit file nor the environment; empty = none. Setting both this and `password` is an error.',
    format: f.filePath,
    default: '',
  }),
  prefix: leaf({
    doc: 'Prepended to every channel (pub/sub) or stream key (Streams), e.g. `mqtt:`.',
    format: f.string,
    default: '',
  }),
  streamMaxLen: leaf({
    doc: 'Streams only: XADD MAXLEN ~ N trims each stream to about N entries; 0 = never trim (the core decides retention; nothing is deleted by the gateway).',
    format: f.nonNegativeInt,
    default: 0,
  }),
  tls: tlsClientSection('Redis'),
}
