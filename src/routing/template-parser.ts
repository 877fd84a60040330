/**
 * The one template syntax of edgebridge, shared by uplink routes (routing/template.ts) and downlink
 * rules (downlink/topic-template.ts): literal text with `{name}` placeholders and `{1}`, `{2}`...
 * for wildcard captures. Parsed once at config load; every mistake is a TypeError with the reason.
 */

export type TemplatePart<Name extends string> =
  { kind: 'literal'; text: string } | { kind: 'named'; name: Name } | { kind: 'capture'; index: number }

export interface TemplateSyntax<Name extends string> {
  /** Placeholder names besides the numbered captures. */
  names: readonly Name[]
  /** Every placeholder, for the "expected one of" message. */
  placeholders: readonly string[]
  /** What the captures come from, for messages: "the filter", "the source". */
  captureOwner: string
}

/** `wildcards` undefined skips the check that a capture exists. */
export function parseTemplate<Name extends string>(
  template: string,
  syntax: TemplateSyntax<Name>,
  wildcards: number | undefined,
): TemplatePart<Name>[] {
  const parts: TemplatePart<Name>[] = []
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
    parts.push(placeholder(template.slice(i + 1, close), syntax, wildcards))
    i = close + 1
  }
  if (literal !== '') parts.push({ kind: 'literal', text: literal })
  return parts
}

function placeholder<Name extends string>(
  name: string,
  syntax: TemplateSyntax<Name>,
  wildcards: number | undefined,
): TemplatePart<Name> {
  if ((syntax.names as readonly string[]).includes(name)) return { kind: 'named', name: name as Name }
  if (/^[1-9][0-9]*$/.test(name)) {
    const index = Number(name)
    if (wildcards !== undefined && index > wildcards) {
      const has = wildcards === 0 ? 'no wildcards' : `only ${wildcards}`
      throw new TypeError(
        `placeholder {${name}} refers to wildcard ${index} but ${syntax.captureOwner} has ${has}`,
      )
    }
    return { kind: 'capture', index }
  }
  throw new TypeError(`unknown placeholder {${name}}: expected one of ${syntax.placeholders.join(', ')}`)
}

/** Why `template` does not parse under `syntax`, or undefined (for config checks). */
export function templateSyntaxProblem<Name extends string>(
  template: string,
  syntax: TemplateSyntax<Name>,
  wildcards: number | undefined,
): string | undefined {
  try {
    parseTemplate(template, syntax, wildcards)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

/** Renders parsed parts; `escape` transforms each substituted value. */
export function renderTemplate<Name extends string>(
  parts: readonly TemplatePart<Name>[],
  named: (name: Name) => string,
  captures: readonly string[],
  escape?: (value: string) => string,
): string {
  let out = ''
  for (const part of parts) {
    if (part.kind === 'literal') {
      out += part.text
      continue
    }
    const value = part.kind === 'named' ? named(part.name) : (captures[part.index - 1] ?? '')
    out += escape === undefined ? value : escape(value)
  }
  return out
}
