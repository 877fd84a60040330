/**
 * Route templates: `{topic}`, `{1}`, `{2}`... (wildcard captures in order), `{clientId}`, `{username}`.
 *
 * A template is parsed once, at config time, into literal and placeholder parts; an unknown
 * placeholder, a capture the route's filter cannot produce or a stray brace is a config error, so a
 * bad route never reaches the data path. Rendering is a join over the parts.
 */

export interface TemplateContext {
  topic: string
  /** Wildcard captures of the matched filter, in order. */
  captures: readonly string[]
  clientId: string
  /** Empty string when the client gave none. */
  username: string
}

type Part =
  | { kind: 'literal'; text: string }
  | { kind: 'topic' }
  | { kind: 'clientId' }
  | { kind: 'username' }
  | { kind: 'capture'; index: number }

export interface CompiledTemplate {
  readonly source: string
  /** True when the template has no placeholder: render() returns the source as is. */
  readonly isStatic: boolean
  /** Render; `escape` transforms each substituted value (NATS subjects escape values into tokens). */
  render(ctx: TemplateContext, escape?: (value: string) => string): string
}

export const TEMPLATE_PLACEHOLDERS = ['{topic}', '{1}, {2}, ...', '{clientId}', '{username}'] as const

/**
 * Why `template` is not valid (given a filter with `wildcards` wildcards), or undefined when it is.
 * `wildcards` undefined skips the capture-count check.
 */
export function templateProblem(template: string, wildcards?: number): string | undefined {
  try {
    parse(template, wildcards)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

/** Compile a template; throws TypeError with the reason when it is invalid. */
export function compileTemplate(template: string, wildcards?: number): CompiledTemplate {
  const parts = parse(template, wildcards)
  const isStatic = parts.every((p) => p.kind === 'literal')
  return {
    source: template,
    isStatic,
    render(ctx, escape) {
      if (isStatic) return template
      let out = ''
      for (const part of parts) {
        if (part.kind === 'literal') {
          out += part.text
          continue
        }
        const value = valueOf(part, ctx)
        out += escape === undefined ? value : escape(value)
      }
      return out
    },
  }
}

function valueOf(part: Exclude<Part, { kind: 'literal' }>, ctx: TemplateContext): string {
  switch (part.kind) {
    case 'topic':
      return ctx.topic
    case 'clientId':
      return ctx.clientId
    case 'username':
      return ctx.username
    case 'capture':
      return ctx.captures[part.index - 1] ?? ''
  }
}

function parse(template: string, wildcards: number | undefined): Part[] {
  const parts: Part[] = []
  let i = 0
  let literal = ''
  while (i < template.length) {
    const ch = template[i] as string
    if (ch === '}') throw new TypeError(`unmatched '}' at position ${i}`)
    if (ch !== '{') {
      literal += ch
      i++
      continue
    }
    const close = template.indexOf('}', i + 1)
    if (close === -1) throw new TypeError(`unmatched '{' at position ${i}`)
    const name = template.slice(i + 1, close)
    if (literal !== '') parts.push({ kind: 'literal', text: literal })
    literal = ''
    parts.push(placeholder(name, wildcards))
    i = close + 1
  }
  if (literal !== '') parts.push({ kind: 'literal', text: literal })
  return parts
}

function placeholder(name: string, wildcards: number | undefined): Part {
  if (name === 'topic') return { kind: 'topic' }
  if (name === 'clientId') return { kind: 'clientId' }
  if (name === 'username') return { kind: 'username' }
  if (/^[1-9][0-9]*$/.test(name)) {
    const index = Number(name)
    if (wildcards !== undefined && index > wildcards) {
      throw new TypeError(
        `placeholder {${name}} refers to wildcard ${index} but the filter has ${wildcards === 0 ? 'no wildcards' : `only ${wildcards}`}`,
      )
    }
    return { kind: 'capture', index }
  }
  throw new TypeError(`unknown placeholder {${name}}: expected one of ${TEMPLATE_PLACEHOLDERS.join(', ')}`)
}
