/**
 * The templates of a request rule (config/schema/requests.ts), in the one template syntax
 * (routing/template-parser.ts):
 *
 * - `device` and `method`: where the device id and the method come from in the core's request:
 *   `{1}`, `{2}`... (the source's wildcards, in MQTT form), `{key}` (the Kafka record key), `{device}`
 *   and `{method}` (the request's `device` / `method` header, or Redis Streams field).
 * - `topic`: the MQTT topic the request is published to: `{device}`, `{method}`, `{id}`.
 * - `answerTopic`: the MQTT topic a device answers on: `{device}`, `{status}`, `{id}`, each filling a
 *   whole topic level, so it is at once an MQTT filter (placeholders -> `+`) and a parser.
 *
 * The default convention (README, "Request/reply"): a device subscribes to `edgebridge/<device>/req/#`,
 * receives `edgebridge/<device>/req/<method>/<id>` and answers on `edgebridge/<device>/res/<status>/<id>`
 * (the layout Azure IoT Hub and Eclipse Hono use for MQTT 3.1.1 devices).
 */
import { parseTemplate, renderTemplate, type TemplateSyntax } from '../routing/template-parser.js'

export const DEFAULT_REQUEST_TOPIC = 'edgebridge/{device}/req/{method}/{id}'
export const DEFAULT_ANSWER_TOPIC = 'edgebridge/{device}/res/{status}/{id}'

export interface RequestFields {
  captures: readonly string[]
  key: string
  headers: Readonly<Record<string, string>>
}

/** `device` or `method` of a rule: picks a value out of the core's request. */
export interface FieldTemplate {
  readonly source: string
  render(fields: RequestFields): string
}

const fieldSyntax: TemplateSyntax<'key' | 'device' | 'method'> = {
  names: ['key', 'device', 'method'],
  placeholders: ['{1}, {2}, ...', '{key}', '{device}', '{method}'],
  captureOwner: 'the source',
}

/** Throws TypeError with the reason. `captures` undefined skips the capture-count check. */
export function compileFieldTemplate(template: string, captures?: number): FieldTemplate {
  const parts = parseTemplate(template, fieldSyntax, captures)
  return {
    source: template,
    render: (f) =>
      renderTemplate(parts, (name) => (name === 'key' ? f.key : (f.headers[name] ?? '')), f.captures),
  }
}

export interface RequestTopicTemplate {
  readonly source: string
  render(values: { device: string; method: string; id: string }): string
}

const requestTopicSyntax: TemplateSyntax<'device' | 'method' | 'id'> = {
  names: ['device', 'method', 'id'],
  placeholders: ['{device}', '{method}', '{id}'],
  captureOwner: 'a request topic',
}

export function compileRequestTopic(template: string): RequestTopicTemplate {
  const parts = parseTemplate(template, requestTopicSyntax, 0)
  if (!parts.some((p) => p.kind === 'named' && p.name === 'id'))
    throw new TypeError('needs {id}: the device answers with it')
  return { source: template, render: (v) => renderTemplate(parts, (name) => v[name], []) }
}

export interface ParsedAnswer {
  device: string | undefined
  status: string
  id: string
}

export interface AnswerTopicPattern {
  readonly source: string
  /** The MQTT filter every answer matches: the placeholders as `+`. */
  readonly filter: string
  /** The answer's parts when `topic` matches, else undefined. */
  parse(topic: string): ParsedAnswer | undefined
}

type AnswerName = 'device' | 'status' | 'id'
const answerSyntax: TemplateSyntax<AnswerName> = {
  names: ['device', 'status', 'id'],
  placeholders: ['{device}', '{status}', '{id}'],
  captureOwner: 'an answer topic',
}

export function compileAnswerTopic(template: string): AnswerTopicPattern {
  type Slot = { literal: string } | { name: AnswerName }
  const slots: Slot[] = template.split('/').map((level) => {
    const parts = parseTemplate(level, answerSyntax, 0)
    const only = parts[0]
    if (parts.length === 1 && only?.kind === 'named') return { name: only.name }
    if (parts.some((p) => p.kind !== 'literal'))
      throw new TypeError(`a placeholder must fill a whole topic level (${JSON.stringify(level)})`)
    if (level.includes('+') || level.includes('#')) throw new TypeError('must not contain wildcards')
    return { literal: level }
  })
  const index = (name: AnswerName): number => slots.findIndex((s) => 'name' in s && s.name === name)
  for (const name of ['status', 'id'] as const) {
    if (index(name) === -1) throw new TypeError(`needs {${name}}`)
  }
  const [deviceAt, statusAt, idAt] = [index('device'), index('status'), index('id')]
  return {
    source: template,
    filter: slots.map((s) => ('name' in s ? '+' : s.literal)).join('/'),
    parse(topic) {
      const t = topic.split('/')
      if (t.length !== slots.length) return undefined
      for (let i = 0; i < slots.length; i++) {
        const s = slots[i] as Slot
        if ('name' in s ? t[i] === '' : s.literal !== t[i]) return undefined
      }
      return {
        device: deviceAt === -1 ? undefined : t[deviceAt],
        status: t[statusAt] as string,
        id: t[idAt] as string,
      }
    },
  }
}

/** Why `value` cannot be one level of a topic (device id, method, request id), or undefined. */
export function levelProblem(value: string): string | undefined {
  if (value === '') return 'is empty'
  if (['/', '+', '#', '\u0000'].some((c) => value.includes(c)))
    return "contains '/', '+', '#' or the null character"
  if (Buffer.byteLength(value) > 1024) return 'is longer than 1024 bytes'
  return undefined
}
