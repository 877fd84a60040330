/**
 * MQTT 3.1.1 topic names and topic filters (section 4.7), the one home of both: validation, matching
 * a topic against a filter while capturing what the wildcards matched (route templates: `{1}`,
 * `{2}`...), and the relations between two filters the ACL judges a SUBSCRIBE by.
 *
 * Filters of routes are compiled once (config time) into their levels so a match per message is a
 * walk over two short arrays with no allocation beyond the captures. The ACL's filters carry %c/%u
 * substitutions, so it matches uncompiled filters (topicMatches) with the same rules.
 */

const MAX_TOPIC_BYTES = 65535 // a UTF-8 string in MQTT is length-prefixed by two bytes [MQTT-1.5.3]

/** Why `filter` is not a valid MQTT topic filter, or undefined when it is valid. */
export function topicFilterProblem(filter: string): string | undefined {
  // [MQTT-4.7.3-1] topic names and filters are at least one character long
  if (filter.length === 0) return 'must not be empty'
  if (Buffer.byteLength(filter, 'utf8') > MAX_TOPIC_BYTES) return `must be at most ${MAX_TOPIC_BYTES} bytes`
  // [MQTT-4.7.3-2] no null character
  if (filter.includes('\u0000')) return 'must not contain the null character'
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string
    if (level.includes('#')) {
      // [MQTT-4.7.1-2] '#' is alone in its level and is the last level
      if (level !== '#') return "'#' must occupy a whole level"
      if (i !== levels.length - 1) return "'#' must be the last level"
    }
    // [MQTT-4.7.1-3] '+' occupies a whole level
    if (level.includes('+') && level !== '+') return "'+' must occupy a whole level"
  }
  return undefined
}

export function isValidTopicFilter(filter: string): boolean {
  return topicFilterProblem(filter) === undefined
}

/** Why `topic` is not a valid topic name (what a PUBLISH carries), or undefined when it is valid. */
export function topicNameProblem(topic: string): string | undefined {
  if (topic.length === 0) return 'must not be empty' // [MQTT-4.7.3-1]
  if (topic.includes('+') || topic.includes('#')) return 'must not contain wildcards' // [MQTT-3.3.2-2]
  if (topic.includes('\u0000')) return 'must not contain the null character' // [MQTT-4.7.3-2]
  if (Buffer.byteLength(topic, 'utf8') > MAX_TOPIC_BYTES) return `must be at most ${MAX_TOPIC_BYTES} bytes`
  return undefined
}

export interface CompiledFilter {
  readonly filter: string
  /** Number of wildcards, i.e. how many captures a match yields. */
  readonly wildcards: number
  /**
   * The captured wildcard segments in order (`+`: one level; `#`: the remaining levels joined by
   * '/', empty when `#` matched the parent level), or undefined when the topic does not match.
   */
  match(topic: string): string[] | undefined
  /** The same, for a topic already split on '/' (the route table splits once per message). */
  matchLevels(levels: readonly string[]): string[] | undefined
}

/** Compile a filter; throws TypeError for an invalid one (validate config with topicFilterProblem first). */
export function compileTopicFilter(filter: string): CompiledFilter {
  const problem = topicFilterProblem(filter)
  if (problem !== undefined)
    throw new TypeError(`invalid MQTT topic filter ${JSON.stringify(filter)}: ${problem}`)
  const levels = filter.split('/')
  const multi = levels[levels.length - 1] === '#'
  const fixed = multi ? levels.length - 1 : levels.length
  const wildcards = levels.filter((l) => l === '+' || l === '#').length
  // [MQTT-4.7.2-1] a filter starting with a wildcard does not match topics starting with '$'
  const startsWithWildcard = levels[0] === '+' || levels[0] === '#'

  const matchLevels = (topicLevels: readonly string[]): string[] | undefined => {
    if (startsWithWildcard && (topicLevels[0] as string).startsWith('$')) return undefined
    if (multi) {
      // "sport/#" also matches "sport": '#' includes the parent level (MQTT 4.7.1.2)
      if (topicLevels.length < fixed) return undefined
    } else if (topicLevels.length !== fixed) {
      return undefined
    }
    const captures: string[] = []
    for (let i = 0; i < fixed; i++) {
      const want = levels[i] as string
      const got = topicLevels[i] as string
      if (want === '+') captures.push(got)
      else if (want !== got) return undefined
    }
    if (multi) captures.push(topicLevels.slice(fixed).join('/'))
    return captures
  }

  return {
    filter,
    wildcards,
    matchLevels,
    match: (topic) => matchLevels(topic.split('/')),
  }
}

const wildcard = (level: string | undefined): boolean => level === '+' || level === '#'

/** Does `filter` match the concrete `topic`? For a filter built per check (the ACL's %c/%u rules). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/')
  const t = topic.split('/')
  if (topic.startsWith('$') && wildcard(f[0])) return false // [MQTT-4.7.2-1]
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true // `a/#` also matches `a` [MQTT-4.7.1-2]
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}

/** Whether one side can only match `$` topics and the other can never match them [MQTT-4.7.2-1]. */
function dollarMismatch(a: string[], b: string[]): boolean {
  const aDollar = a[0]!.startsWith('$')
  const bDollar = b[0]!.startsWith('$')
  return (aDollar && wildcard(b[0])) || (bDollar && wildcard(a[0]))
}

/** Is there a topic that both filters match? (May a subscription receive anything a rule allows?) */
export function filtersIntersect(a: string, b: string): boolean {
  const x = a.split('/')
  const y = b.split('/')
  if (dollarMismatch(x, y)) return false
  for (let i = 0; ; i++) {
    if (x[i] === '#' || y[i] === '#') return true
    if (i === x.length || i === y.length) return x.length === y.length
    if (x[i] !== '+' && y[i] !== '+' && x[i] !== y[i]) return false
  }
}

/** Does `outer` match every topic `inner` matches? (Does a deny rule cover the whole subscription?) */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/')
  const n = inner.split('/')
  if (dollarMismatch(o, n)) return false
  for (let i = 0; ; i++) {
    if (o[i] === '#') return true
    if (i === o.length || i === n.length) return o.length === n.length
    if (n[i] === '#') return false
    if (n[i] === '+' ? o[i] !== '+' : o[i] !== '+' && o[i] !== n[i]) return false
  }
}
