/**
 * Downlink topic templates: the MQTT topic a command is published to, from what the core gave.
 *
 * Placeholders: `{topic}` (the default mapping of the message, see default-topic.ts), `{1}`, `{2}`...
 * (the source's wildcard captures, in order, already in MQTT form) and `{key}` (the Kafka record key;
 * empty elsewhere). A template is parsed once, at config load; an unknown placeholder, a capture the
 * source cannot produce or a stray brace is a config error.
 */
import {
  parseTemplate,
  renderTemplate,
  templateSyntaxProblem,
  type TemplateSyntax,
} from '../routing/template-parser.js'

export interface DownlinkTemplateContext {
  topic: string
  captures: readonly string[]
  key: string
}

export interface CompiledTopicTemplate {
  readonly source: string
  render(ctx: DownlinkTemplateContext): string
}

export const DOWNLINK_PLACEHOLDERS = ['{topic}', '{1}, {2}, ...', '{key}'] as const

const downlinkSyntax: TemplateSyntax<'topic' | 'key'> = {
  names: ['topic', 'key'],
  placeholders: DOWNLINK_PLACEHOLDERS,
  captureOwner: 'the source',
}

/** Compile; throws TypeError with the reason. `captures` undefined skips the capture-count check. */
export function compileTopicTemplate(template: string, captures?: number): CompiledTopicTemplate {
  const parts = parseTemplate(template, downlinkSyntax, captures)
  return {
    source: template,
    render: (ctx) => renderTemplate(parts, (name) => ctx[name], ctx.captures),
  }
}

/** Why `template` is not valid, or undefined. */
export function topicTemplateProblem(template: string, captures?: number): string | undefined {
  return templateSyntaxProblem(template, downlinkSyntax, captures)
}

/** True when the template has no placeholder (then it must itself be a valid topic name). */
export function isStaticTemplate(template: string): boolean {
  return !template.includes('{')
}
