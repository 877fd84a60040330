/**
 * Redis naming and encoding (descriptor.ts), pub/sub and Streams: the payload raw (pub/sub has nowhere
 * else to put provenance; Streams carry it as fields); targets are `redis.prefix` + the topic, any
 * string Redis takes. Downlink sources: PSUBSCRIBE globs on pub/sub, exact stream keys on Streams. A
 * channel maps back to its topic less the prefix; a stream entry to its `mqtt.topic` field first.
 */
import { PROVENANCE } from '../../record.js'
import {
  exactSource,
  noConfigProblems,
  topicNamed,
  withoutPrefix,
  type BackendDescriptor,
} from '../descriptor.js'
import { compileGlobPattern } from './glob-pattern.js'

export const redisDescriptor: BackendDescriptor = {
  name: 'redis',
  codecs: ['raw'],
  codecsWhy: 'carries the raw payload only: pub/sub has no headers',
  targetKind: 'Redis channel',
  ...topicNamed,
  targetPrefix: (config) => config.redis.prefix,
  escape: undefined,
  targetProblem: () => undefined,
  sourceProblem: () => undefined,
  compileSource: compileGlobPattern,
  mqttTopic: (message, config) => withoutPrefix(message.subject, config.redis.prefix),
  // the channel pattern's wildcards, as on NATS
  requestFields: { device: '{1}', method: '{2}' },
  configProblems: noConfigProblems,
}

export const redisStreamsDescriptor: BackendDescriptor = {
  ...redisDescriptor,
  name: 'redis-streams',
  codecsWhy: 'carries provenance as stream fields and the payload raw',
  targetKind: 'Redis stream key',
  compileSource: exactSource,
  // the entry's fields
  requestFields: { device: '{device}', method: '{method}' },
  mqttTopic: (message, config) =>
    message.headers?.[PROVENANCE.topic] ?? withoutPrefix(message.subject, config.redis.prefix),
}
