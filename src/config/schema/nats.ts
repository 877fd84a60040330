import * as f from '../formats.js'
import { leaf, secretWithFile, type Section } from './leaf.js'
import { tlsClientSection } from './tls-client.js'

export const natsSection: Section = {
  servers: leaf({
    doc: "NATS servers to connect to (comma-separated in env). MSight's MSIGHT_NATS_SERVERS is read too.",
    format: f.natsServers,
    default: ['nats://127.0.0.1:4222'],
    env: 'EDGEBRIDGE_NATS_SERVERS',
  }),
  user: leaf({ doc: 'User name; empty = none.', format: f.string, default: '' }),
  ...secretWithFile('Password of `user`.', 'the password of `user`'),
  token: leaf({ doc: 'Authentication token; empty = none.', format: f.string, default: '', secret: true }),
  tokenFile: leaf({
    doc: 'File holding the authentication token (one trailing newline is ignored); empty = none. Setting both this and `token` is an error.',
    format: f.filePath,
    default: '',
  }),
  credsFile: leaf({
    doc: 'NATS credentials file (JWT + NKey seed); empty = none.',
    format: f.filePath,
    default: '',
  }),
  nkeySeedFile: leaf({ doc: 'File holding an NKey seed; empty = none.', format: f.filePath, default: '' }),
  tls: tlsClientSection('NATS'),
  subjectPrefix: leaf({
    doc: "Prepended with a dot to every subject, e.g. `edge.site1`; empty = none (subjects are then exactly what nats-server's own MQTT support uses).",
    format: f.natsSubjectPrefix,
    default: '',
  }),
  stream: {
    name: leaf({
      doc: 'JetStream: the stream that captures the subjects.',
      format: f.nonEmptyString,
      default: 'EDGEBRIDGE',
    }),
    subjects: leaf({
      doc: 'JetStream: subjects of the stream (comma-separated in env). Empty = `<subjectPrefix>.>` when a prefix is set; a prefix or an explicit list is needed to create the stream.',
      format: f.natsSubjects,
      default: [],
    }),
    create: leaf({
      doc: "JetStream: create the stream at start, or update its subjects. Off by default: streams are usually the core operators' to define.",
      format: f.bool,
      default: false,
    }),
  },
}
