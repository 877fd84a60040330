/**
 * Route templates: `{topic}`, `{1}`, `{2}`... (wildcard captures in order), `{clientId}`, `{username}`.
 *
 * A template is parsed once, at config time, into literal and placeholder parts; an unknown
 * placeholder, a capture the route's filter cannot produce or a stray brace is a config error, so a
 * bad route never reaches the data path. Rendering is a join over the parts.
 */
import {
  parseTemplate,
  renderTemplate,
  templateSyntaxProblem,
  type TemplateSyntax,
} from './template-parser.js'

export interface TemplateContext {
  topic: string
  /** Wildcard captures of the matched filter, in order. */
  captures: readonly string[]
  clientId: string
  /** Empty string when the client gave none. */
  username: string
}

export interface CompiledTemplate {
  readonly source: string
  /** True when the template has no placeholder: render() returns the source as is. */
  readonly isStatic: boolean
  /** Render; `escape` transforms each substituted value (NATS subjects escape values into tokens). */
  render(ctx: TemplateContext, escape?: (value: string) => string): string
}

export const TEMPLATE_PLACEHOLDERS = ['{topic}', '{1}, {2}, ...', '{clientId}', '{username}'] as const

type RouteName = 'topic' | 'clientId' | 'username'

const routeSyntax: TemplateSyntax<RouteName> = {
  names: ['topic', 'clientId', 'username'],
  placeholders: TEMPLATE_PLACEHOLDERS,
  captureOwner: 'the filter',
}

/**
 * Why `template` is not valid (given a filter with `wildcards` wildcards), or undefined when it is.
 * `wildcards` undefined skips the capture-count check.
 */
export function templateProblem(template: string, wildcards?: number): string | undefined {
  return templateSyntaxProblem(template, routeSyntax, wildcards)
}

/** Compile a template; throws TypeError with the reason when it is invalid. */
export function compileTemplate(template: string, wildcards?: number): CompiledTemplate {
  const parts = parseTemplate(template, routeSyntax, wildcards)
  const isStatic = parts.every((p) => p.kind === 'literal')
  return {
    source: template,
    isStatic,
    render(ctx, escape) {
      if (isStatic) return template
      return renderTemplate(parts, (name) => ctx[name], ctx.captures, escape)
    },
  }
}
