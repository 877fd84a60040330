/**
 * Kafka's naming and encoding (descriptor.ts): every codec (the value is the payload or an envelope,
 * provenance travels in record headers either way); the default route is `kafka.topic` keyed by the
 * client id, so one device lands on one partition and keeps its order; downlink sources are exact
 * topic names, and a record maps back to its `mqtt.topic` header, else `<topic>/<key>`, else the topic.
 */
import { PROVENANCE } from '../../record.js'
import { exactSource, noConfigProblems, type BackendDescriptor } from '../descriptor.js'
import { kafkaTopicProblem } from './topic-name.js'

export const kafkaDescriptor: BackendDescriptor = {
  name: 'kafka',
  codecs: ['raw', 'json', 'msgpack', 'cloudevents'],
  codecsWhy: 'carries every codec',
  targetKind: 'Kafka topic',
  defaultRoute: (config) => ({ match: '#', target: config.kafka.topic, key: '{clientId}', codec: 'raw' }),
  defaultKey: '{clientId}',
  targetPrefix: () => '',
  escape: undefined,
  targetProblem: kafkaTopicProblem,
  sourceProblem: kafkaTopicProblem,
  compileSource: exactSource,
  // the record key and the `method` header
  requestFields: { device: '{key}', method: '{method}' },
  configProblems: noConfigProblems,
  mqttTopic(message) {
    const header = message.headers?.[PROVENANCE.topic]
    if (header !== undefined) return header
    return message.key === undefined || message.key === ''
      ? message.subject
      : `${message.subject}/${message.key}`
  },
}
