/**
 * NATS naming and encoding, core NATS and JetStream alike (descriptor.ts): the payload raw, provenance
 * in headers; targets are subjects, the topic mapped as nats-server's MQTT support maps it
 * (nats-subject.ts) after `nats.subjectPrefix`; downlink sources are subject filters, and a subject
 * maps back to a topic the same way, less the prefix.
 */
import type { EdgebridgeConfig } from '../../config/types.js'
import { problemLine } from '../../config/problem.js'
import { noConfigProblems, topicNamed, withoutPrefix, type BackendDescriptor } from '../descriptor.js'
import { escapeForNatsSubject, natsSubjectToMqttTopic, subjectProblem } from './nats-subject.js'
import { compileSubjectPattern } from './subject-pattern.js'

function prefixOf(config: EdgebridgeConfig): string {
  return config.nats.subjectPrefix === '' ? '' : `${config.nats.subjectPrefix}.`
}

export const natsDescriptor: BackendDescriptor = {
  name: 'nats',
  codecs: ['raw'],
  codecsWhy: 'carries provenance in headers and the payload raw',
  targetKind: 'NATS subject',
  ...topicNamed,
  targetPrefix: prefixOf,
  escape: escapeForNatsSubject,
  targetProblem: (subject) => subjectProblem(subject, false),
  sourceProblem: (source) => subjectProblem(source, true),
  compileSource: compileSubjectPattern,
  mqttTopic: (message, config) => natsSubjectToMqttTopic(withoutPrefix(message.subject, prefixOf(config))),
  // edgebridge.req.<device>.<method>
  requestFields: { device: '{1}', method: '{2}' },
  configProblems: noConfigProblems,
}

export const jetstreamDescriptor: BackendDescriptor = {
  ...natsDescriptor,
  name: 'jetstream',
  // A stream created at start must capture something; the prefix gives a default (load-config.ts).
  configProblems: (config) =>
    config.nats.stream.create && config.nats.stream.subjects.length === 0
      ? [
          problemLine(
            'nats.stream.subjects',
            [],
            'list the subjects to capture when nats.stream.create is true and nats.subjectPrefix is empty',
          ),
        ]
      : [],
}
