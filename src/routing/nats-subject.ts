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

export class NatsSubjectError extends TypeError {
  constructor(message: string) {
    super(message)
    this.name = 'NatsSubjectError'
  }
}

// NATS subjects are split on whitespace by the protocol parser; control characters are refused too.
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

/** True when `subject` can be published to: non-empty tokens, no wildcards, no whitespace. */
export function isValidPublishSubject(subject: string): boolean {
  if (subject.length === 0 || UNSUPPORTED.test(subject)) return false
  for (const token of subject.split('.')) {
    if (token === '' || token === '*' || token === '>') return false
  }
  return true
}
