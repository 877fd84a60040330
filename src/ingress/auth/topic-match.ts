/**
 * Topic filter relations the ACL needs. Beyond plain matching (does this filter match this topic?)
 * a SUBSCRIBE is judged by comparing two filters: does the subscription share any topic with a rule
 * (`filtersIntersect`), and is every topic of the subscription inside a rule (`filterCovers`)?
 *
 * Filters starting with a wildcard never match topics starting with `$` [MQTT-4.7.2-1].
 */

const levels = (s: string): string[] => s.split('/')
const wildcard = (level: string | undefined): boolean => level === '+' || level === '#'

/** True for a valid filter: `+` and `#` fill a whole level and `#` is last [MQTT-4.7.1-2], [MQTT-4.7.1-3]. */
export function isValidFilter(filter: string): boolean {
  if (filter === '') return false
  const parts = levels(filter)
  return parts.every((p, i) =>
    p === '#' ? i === parts.length - 1 : p === '+' || (!p.includes('+') && !p.includes('#')),
  )
}

/** Does `filter` match the concrete `topic`? */
export function topicMatches(filter: string, topic: string): boolean {
  const f = levels(filter)
  const t = levels(topic)
  if (topic.startsWith('$') && wildcard(f[0])) return false // [MQTT-4.7.2-1]
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true // `a/#` also matches `a` [MQTT-4.7.1-2]
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}

/** Whether one side can only match `$` topics and the other can never match them. */
function dollarMismatch(a: string[], b: string[]): boolean {
  const aDollar = a[0]!.startsWith('$')
  const bDollar = b[0]!.startsWith('$')
  return (aDollar && wildcard(b[0])) || (bDollar && wildcard(a[0]))
}

/** Is there a topic that both filters match? */
export function filtersIntersect(a: string, b: string): boolean {
  const x = levels(a)
  const y = levels(b)
  if (dollarMismatch(x, y)) return false
  for (let i = 0; ; i++) {
    if (x[i] === '#' || y[i] === '#') return true
    if (i === x.length || i === y.length) return x.length === y.length
    if (x[i] !== '+' && y[i] !== '+' && x[i] !== y[i]) return false
  }
}

/** Does `outer` match every topic `inner` matches? */
export function filterCovers(outer: string, inner: string): boolean {
  const o = levels(outer)
  const n = levels(inner)
  if (dollarMismatch(o, n)) return false
  for (let i = 0; ; i++) {
    if (o[i] === '#') return true
    if (i === o.length || i === n.length) return o.length === n.length
    if (n[i] === '#') return false
    if (n[i] === '+' ? o[i] !== '+' : o[i] !== '+' && o[i] !== n[i]) return false
  }
}
