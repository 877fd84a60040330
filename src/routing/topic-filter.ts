/**
 * MQTT 3.1.1 topic names and topic filters (section 4.7): validation, and matching a topic against a
 * filter while capturing what the wildcards matched, for route templates (`{1}`, `{2}`...).
 *
 * Filters are compiled once (config time) into their levels so a match per message is a walk over
 * two short arrays with no allocation beyond the captures.
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
