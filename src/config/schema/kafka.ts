import * as f from '../formats.js'
import { leaf, secretWithFile, type Section } from './leaf.js'
import { tlsClientSection } from './tls-client.js'

export const kafkaSection: Section = {
  brokers: leaf({
    doc: "Bootstrap brokers as host:port (comma-separated in env). MSight's MSIGHT_KAFKA_SERVERS is read too.",
    format: f.kafkaBrokers,
    default: ['127.0.0.1:9092'],
    env: 'EDGEBRIDGE_KAFKA_BROKERS',
  }),
  clientId: leaf({
    doc: 'Kafka client id (shows in broker logs and quotas).',
    format: f.nonEmptyString,
    default: 'edgebridge',
  }),
  topic: leaf({
    doc: 'Topic of the default route; records are keyed by client id so each device stays on one partition, in order.',
    format: f.kafkaTopic,
    default: 'edgebridge.ingest',
  }),
  compression: leaf({
    doc: 'Batch compression. kafkajs ships gzip; lz4, zstd and snappy need their codec package installed.',
    format: f.oneOf(['none', 'gzip', 'lz4', 'zstd', 'snappy']),
    default: 'none',
  }),
  createTopics: leaf({
    doc: 'Create missing topics at start with `partitions` and `replicationFactor`. Off by default: production clusters usually manage topics themselves.',
    format: f.bool,
    default: false,
  }),
  partitions: leaf({
    doc: 'Partitions of topics created by createTopics.',
    format: f.positiveInt,
    default: 1,
  }),
  replicationFactor: leaf({
    doc: 'Replication factor of topics created by createTopics (use 3 on a production cluster).',
    format: f.positiveInt,
    default: 1,
  }),
  maxMessageBytes: leaf({
    doc: "The largest record the cluster accepts: the broker's message.max.bytes or the topic's max.message.bytes (Kafka's default 1048588). Devices publishing a payload that cannot fit (with provenance headers) are refused before they are acknowledged, instead of being acknowledged and then dead-lettered. Raise it together with the cluster's limit.",
    format: f.positiveBytes,
    default: 1048588,
  }),
  requestTimeoutMs: leaf({
    doc: 'How long to wait for a broker to answer a request.',
    format: f.durationMs,
    default: 30000,
  }),
  tls: tlsClientSection('Kafka'),
  sasl: {
    mechanism: leaf({
      doc: 'SASL mechanism; `none` = no SASL.',
      format: f.oneOf(['none', 'plain', 'scram-sha-256', 'scram-sha-512']),
      default: 'none',
    }),
    username: leaf({ doc: 'SASL user name.', format: f.string, default: '' }),
    ...secretWithFile('SASL password.', 'the SASL password'),
  },
}
