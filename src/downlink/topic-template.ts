/**
 * Downlink topic templates: the MQTT topic a command is published to, from what the core gave.
 *
 * Placeholders: `{topic}` (the default mapping of the message, see default-topic.ts), `{1}`, `{2}`...
 * (the source's wildcard captures, in order, already in MQTT form) and `{key}` (the Kafka record key;
 * empty elsewhere). A template is parsed once, at config load; an unknown placeholder, a capture the
 * source cannot produce or a stray brace is a config error.
 */

export interface DownlinkTemplateContext {
  topic: string
  captures: readonly string[]
  key: string
}

type Part =
  { kind: 'literal'; text: string } | { kind: 'topic' } | { kind: 'key' } | { kind: 'capture'; index: number }

export interface CompiledTopicTemplate {
  readonly source: string
  render(ctx: DownlinkTemplateContext): string
}

export const DOWNLINK_PLACEHOLDERS = ['{topic}', '{1}, {2}, ...', '{key}'] as const

/** Compile; throws TypeError with the reason. `captures` undefined skips the capture-count check. */
export function compileTopicTemplate(template: string, captures?: number): CompiledTopicTemplate {
  const parts = parse(template, captures)
  return {
    source: template,
    render(ctx) {
      let out = ''
      for (const part of parts) {
        if (part.kind === 'literal') out += part.text
        else if (part.kind === 'topic') out += ctx.topic
        else if (part.kind === 'key') out += ctx.key
        else out += ctx.captures[part.index - 1] ?? ''
      }
      return out
    },
  }
}

/** Why `template` is not valid, or undefined. */
export function topicTemplateProblem(template: string, captures?: number): string | undefined {
  try {
    parse(template, captures)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

/** True when the template has no placeholder (then it must itself be a valid topic name). */
export function isStaticTemplate(template: string): boolean {
  return !template.includes('{')
}

function parse(template: string, captures: number | undefined): Part[] {
  const parts: Part[] = []
  let literal = ''
  for (let i = 0; i < template.length;) {
    const ch = template[i] as string
    if (ch === '}') throw new TypeError(`unmatched '}' at position ${i}`)
    if (ch !== '{') {
      literal += ch
      i++
      continue
    }
    const close = template.indexOf('}', i + 1)
    if (close === -1) throw new TypeError(`unmatched '{' at position ${i}`)
    if (literal !== '') parts.push({ kind: 'literal', text: literal })
    literal = ''
    parts.push(placeholder(template.slice(i + 1, close), captures))
    i = close + 1
  }
  if (literal !== '') parts.push({ kind: 'literal', text: literal })
  return parts
}

function placeholder(name: string, captures: number | undefined): Part {
  if (name === 'topic') return { kind: 'topic' }
  if (name === 'key') return { kind: 'key' }
  if (/^[1-9][0-9]*$/.test(name)) {
    const index = Number(name)
    if (captures !== undefined && index > captures) {
      throw new TypeError(
        `placeholder {${name}} refers to wildcard ${index} but the source has ${captures === 0 ? 'no wildcards' : `only ${captures}`}`,
      )
    }
    return { kind: 'capture', index }
  }
  throw new TypeError(`unknown placeholder {${name}}: expected one of ${DOWNLINK_PLACEHOLDERS.join(', ')}`)
}
