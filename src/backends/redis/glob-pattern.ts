/**
 * A downlink source on Redis pub/sub: a PSUBSCRIBE glob, matched the way the server matches it. Each
 * `*`, `?` and `[...]` captures what it matched (a `*` may span `/`).
 */
import type { SourcePattern } from '../descriptor.js'

/** Redis glob (stringmatchlen): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x` for a literal x. */
export function compileGlobPattern(source: string): SourcePattern {
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
