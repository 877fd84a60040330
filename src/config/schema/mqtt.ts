import * as f from '../formats.js'
import { leaf, MiB, type Section } from './leaf.js'

export const mqttSection: Section = {
  host: leaf({
    doc: 'Address of the default MQTT listener (used when `listeners` is empty). Loopback by default: expose the broker on purpose, with TLS and passwords, through `listeners`.',
    format: f.host,
    default: '127.0.0.1',
    env: 'EDGEBRIDGE_MQTT_HOST',
  }),
  port: leaf({
    doc: 'Port of the default MQTT listener (used when `listeners` is empty).',
    format: f.port,
    default: 1883,
    env: 'EDGEBRIDGE_MQTT_PORT',
  }),
  allowAnonymous: leaf({
    doc: 'Allow clients without a username on the default listener. null = refused once security.passwordFile is set or a listener requires client certificates, else allowed on loopback only.',
    format: f.boolOrAuto,
    default: null,
  }),
  maxPacketBytes: leaf({
    doc: 'Largest MQTT packet accepted; a client sending a larger one is disconnected. Default: a 1 MiB payload plus the longest possible topic.',
    format: f.positiveBytes,
    default: MiB + 64 * 1024,
  }),
  maxTopicLevels: leaf({
    doc: 'Most levels (parts between /) a topic may have; deeper topics are refused.',
    format: f.positiveInt,
    default: 32,
  }),
  maxClientIdLength: leaf({
    doc: 'Longest client id accepted (MQTT 3.1.1 servers must accept 1-23 characters [MQTT-3.1.3-5]; longer ones are a server choice).',
    format: f.positiveInt,
    default: 256,
  }),
  drainTimeoutMs: leaf({
    doc: "How long a client's socket may refuse to drain what the broker writes to it before the client is disconnected (aedes drainTimeout): protects the broker from slow or frozen devices.",
    format: f.durationMs,
    default: 5000,
  }),
  connectTimeoutMs: leaf({
    doc: 'How long a new connection may take to send CONNECT before it is closed.',
    format: f.durationMs,
    default: 30000,
  }),
  heartbeatIntervalMs: leaf({
    doc: 'Interval of the broker heartbeat on $SYS topics.',
    format: f.durationMs,
    default: 60000,
  }),
}
