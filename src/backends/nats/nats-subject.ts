/**
 * MQTT topic <-> NATS subject, the same way nats-server's own MQTT support converts them
 * (server/mqtt.go: mqttToNATSSubjectConversion, natsSubjectToMQTTTopic), so NATS subscribers written
 * for nats-server's MQTT see the same subjects from edgebridge, and the downlink maps back the same way.
 *
 * Level by level:
 * - the separator '/' becomes '.';
 * - an empty level (leading, trailing or doubled '/') becomes the token '/':
 *   "/foo" -> "/.foo", "foo/" -> "foo./", "foo//bar" -> "foo./.bar", "/" -> "/./";
 * - a '.' inside a level becomes '//': "foo.bar/baz" -> "foo//bar.baz";
 * - whitespace and control characters cannot appear in a NATS subject: the topic is refused;
 * - in filters '+' becomes '*' and '#' becomes '>'.
 */

import { TargetNameError } from '../descriptor.js'

export class NatsSubjectError extends TargetNameError {
  constructor(message: string) {
    super(message)
    this.name = 'NatsSubjectError'
  }
}

// The one rule on characters, for every subject edgebridge publishes to, subscribes to or is
// configured with: the NATS protocol parser splits on whitespace, and control characters (C0 and
// DEL) are refused too, so a subject holding one could never be used as written.
// eslint-disable-next-line no-control-regex
const UNSUPPORTED = /[\s\u0000-\u001f\u007f]/

/** MQTT topic name -> NATS subject (for PUBLISH). Throws NatsSubjectError when NATS cannot carry it. */
export function mqttTopicToNatsSubject(topic: string): string {
  if (topic.includes('+') || topic.includes('#')) {
    // [MQTT-3.3.2-2] a topic name has no wildcards
    throw new NatsSubjectError(`wildcards not allowed in a topic name: ${JSON.stringify(topic)}`)
  }
  return convert(topic, false)
}

/** MQTT topic filter -> NATS subject with wildcards (`+` -> `*`, `#` -> `>`), for subscriptions. */
export function mqttFilterToNatsSubject(filter: string): string {
  return convert(filter, true)
}

/**
 * Escape an arbitrary value (a client id, a wildcard capture) into NATS subject text with the same
 * rules as a topic: '/' separates tokens, '.' becomes '//'. Throws NatsSubjectError for whitespace.
 */
export function escapeForNatsSubject(value: string): string {
  if (value === '') return ''
  return convert(value, true)
}

function convert(mqtt: string, wildcardsOk: boolean): string {
  if (mqtt.length === 0) throw new NatsSubjectError('an empty topic has no NATS subject') // [MQTT-4.7.3-1]
  if (UNSUPPORTED.test(mqtt)) {
    throw new NatsSubjectError(
      `whitespace and control characters not supported in NATS subjects: ${JSON.stringify(mqtt)}`,
    )
  }
  const levels = mqtt.split('/')
  const tokens = new Array<string>(levels.length)
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string
    if (level === '') {
      tokens[i] = '/'
    } else if (wildcardsOk && level === '+') {
      tokens[i] = '*'
    } else if (wildcardsOk && level === '#') {
      tokens[i] = '>'
    } else {
      tokens[i] = level.includes('.') ? level.replaceAll('.', '//') : level
    }
  }
  return tokens.join('.')
}

/**
 * NATS subject -> MQTT topic (for the downlink), the reverse of mqttTopicToNatsSubject. A port of
 * nats-server's natsSubjectToMQTTTopic, character by character, so that subjects it did not produce
 * (a lone '/' inside a token) map the way nats-server maps them: the lone '/' is dropped.
 */
export function natsSubjectToMqttTopic(subject: string): string {
  let out = ''
  const end = subject.length - 1
  for (let i = 0; i < subject.length; i++) {
    const ch = subject[i] as string
    if (ch === '/') {
      if (i < end) {
        const next = subject[i + 1]
        // "/." is an empty level: the '.' that follows is the separator
        if (next === '.') {
          out += '/'
          i++
        } else if (next === '/') {
          out += '.'
          i++
        }
      }
    } else if (ch === '.') {
      out += '/'
    } else {
      out += ch
    }
  }
  return out
}

/**
 * Why `subject` is not a valid NATS subject, or undefined: non-empty tokens, no whitespace or control
 * characters; with `wildcards`, `*` tokens and a last `>` token are allowed (a filter), else neither is
 * (a subject to publish to, a prefix).
 */
export function subjectProblem(subject: string, wildcards: boolean): string | undefined {
  if (subject.length === 0) return 'must not be empty'
  if (UNSUPPORTED.test(subject)) return 'must not contain whitespace or control characters'
  const tokens = subject.split('.')
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    if (token === '') return 'must be a NATS subject (no empty tokens: no leading, trailing or double dots)'
    if (!wildcards && (token === '*' || token === '>')) return 'must not contain the wildcards * and >'
    if (token === '>' && i !== tokens.length - 1) return "must have '>' only as the last token"
  }
  return undefined
}
