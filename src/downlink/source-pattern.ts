/**
 * A downlink rule's `source`, in the core's own syntax, and the wildcard captures it yields for the
 * topic template (`{1}`, `{2}`...):
 *
 * - nats, jetstream: a NATS subject filter. Each `*` token captures one token, `>` captures the rest;
 *   captures are given in MQTT form (natsSubjectToMqttTopic: `a.b` -> `a/b`, `a//b` -> `a.b`).
 * - redis: a PSUBSCRIBE glob. Each `*`, `?` and `[...]` captures what it matched (a `*` may span `/`).
 * - redis-streams: a stream key; kafka: a topic name. Exact names, no captures.
 */
import type { BackendName } from '../config/types.js'
import { natsSubjectToMqttTopic } from '../routing/nats-subject.js'

export interface SourcePattern {
  readonly source: string
  /** How many captures match() returns. */
  readonly captures: number
  /** The captures when `subject` matches, else undefined. */
  match(subject: string): string[] | undefined
}

// eslint-disable-next-line no-control-regex
const WHITESPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f]/
// Kafka topic names: at most 249 characters of [a-zA-Z0-9._-] (kafka.common.internals.Topic).
const KAFKA_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/

/** Why `source` is not valid for `backend`, or undefined. */
export function sourceProblem(backend: BackendName, source: string): string | undefined {
  if (source === '') return 'must not be empty'
  switch (backend) {
    case 'nats':
    case 'jetstream':
      return natsFilterProblem(source)
    case 'redis':
    case 'redis-streams':
      return undefined
    case 'kafka':
      return KAFKA_TOPIC.test(source)
        ? undefined
        : 'must be a Kafka topic name (1-249 characters of a-z, A-Z, 0-9, ".", "_", "-"; no wildcards)'
  }
}

/** Compile; throws TypeError when sourceProblem() has something to say. */
export function compileSource(backend: BackendName, source: string): SourcePattern {
  const problem = sourceProblem(backend, source)
  if (problem !== undefined) throw new TypeError(`source ${JSON.stringify(source)} ${problem}`)
  switch (backend) {
    case 'nats':
    case 'jetstream':
      return natsPattern(source)
    case 'redis':
      return globPattern(source)
    case 'redis-streams':
    case 'kafka':
      return { source, captures: 0, match: (s) => (s === source ? [] : undefined) }
  }
}

function natsFilterProblem(subject: string): string | undefined {
  if (WHITESPACE_OR_CONTROL.test(subject)) return 'must not contain whitespace or control characters'
  const tokens = subject.split('.')
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] === '')
      return 'must be a NATS subject (no empty tokens: no leading, trailing or double dots)'
    if (tokens[i] === '>' && i !== tokens.length - 1) return "must have '>' only as the last token"
  }
  return undefined
}

function natsPattern(source: string): SourcePattern {
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

/** Redis glob (stringmatchlen): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x` for a literal x. */
function globPattern(source: string): SourcePattern {
  let regex = '^'
  let captures = 0
  for (let i = 0; i < source.length; i++) {
    const ch = source[i] as string
    if (ch === '\\' && i + 1 < source.length) {
      regex += escapeRegex(source[++i] as string)
    } else if (ch === '*') {
      regex += '([\\s\\S]*)'
      captures++
    } else if (ch === '?') {
      regex += '([\\s\\S])'
      captures++
    } else if (ch === '[') {
      const close = source.indexOf(']', i + 2)
      if (close === -1) {
        regex += '\\['
        continue
      }
      let body = source.slice(i + 1, close)
      const negate = body.startsWith('^')
      if (negate) body = body.slice(1)
      regex += `([${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}])`
      captures++
      i = close
    } else {
      regex += escapeRegex(ch)
    }
  }
  const compiled = new RegExp(`${regex}$`)
  return {
    source,
    captures,
    match(subject) {
      const m = compiled.exec(subject)
      return m === null ? undefined : m.slice(1)
    },
  }
}

function escapeRegex(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
}
