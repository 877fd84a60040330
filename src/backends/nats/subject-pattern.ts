/**
 * A downlink source on NATS: a subject filter. Each `*` token captures one token, `>` captures the
 * rest; captures are given in MQTT form (natsSubjectToMqttTopic: `a.b` -> `a/b`, `a//b` -> `a.b`).
 */
import type { SourcePattern } from '../descriptor.js'
import { natsSubjectToMqttTopic } from './nats-subject.js'

export function compileSubjectPattern(source: string): SourcePattern {
  const filter = source.split('.')
  const captures = filter.filter((t) => t === '*' || t === '>').length
  return {
    source,
    captures,
    match(subject) {
      const tokens = subject.split('.')
      const out: string[] = []
      for (let i = 0; i < filter.length; i++) {
        const f = filter[i] as string
        if (f === '>') {
          if (i >= tokens.length) return undefined // '>' matches one or more tokens
          out.push(natsSubjectToMqttTopic(tokens.slice(i).join('.')))
          return out
        }
        const t = tokens[i]
        if (t === undefined) return undefined
        if (f === '*') out.push(natsSubjectToMqttTopic(t))
        else if (f !== t) return undefined
      }
      return tokens.length === filter.length ? out : undefined
    },
  }
}
