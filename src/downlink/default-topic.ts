/**
 * The MQTT topic a downlink message goes to when its rule gives no `topic` (and what `{topic}` means
 * in a template): the reverse of the uplink's default route (routing/route-table.ts), so a command
 * sent to the name a device's own messages travel under reaches the same topic.
 *
 * - nats, jetstream: the subject less `nats.subjectPrefix` + '.', mapped back the way nats-server's MQTT
 *   support does (natsSubjectToMqttTopic): `commands.device1.reboot` -> `commands/device1/reboot`.
 * - redis: the channel less `redis.prefix`.
 * - redis-streams: the entry's `topic` field when it has one, else the stream key less `redis.prefix`.
 * - kafka: the record's `mqtt.topic` header when it has one, else `<kafka topic>/<record key>`, or the
 *   Kafka topic alone for a record without a key.
 */
import type { DownlinkMessage } from '../backends/backend.js'
import type { EdgebridgeConfig } from '../config/types.js'
import { natsSubjectToMqttTopic } from '../routing/nats-subject.js'

export function defaultTopic(config: EdgebridgeConfig, message: DownlinkMessage): string {
  switch (config.core.backend) {
    case 'nats':
    case 'jetstream': {
      const prefix = config.nats.subjectPrefix === '' ? '' : `${config.nats.subjectPrefix}.`
      return natsSubjectToMqttTopic(withoutPrefix(message.subject, prefix))
    }
    case 'redis':
      return withoutPrefix(message.subject, config.redis.prefix)
    case 'redis-streams':
      return message.headers?.topic ?? withoutPrefix(message.subject, config.redis.prefix)
    case 'kafka': {
      const header = message.headers?.['mqtt.topic']
      if (header !== undefined) return header
      return message.key === undefined || message.key === ''
        ? message.subject
        : `${message.subject}/${message.key}`
    }
  }
}

/** `name` less `prefix` when it starts with it (and something is left), else `name` as is. */
function withoutPrefix(name: string, prefix: string): string {
  return prefix !== '' && name.startsWith(prefix) && name.length > prefix.length
    ? name.slice(prefix.length)
    : name
}
