/**
 * Value formats for the config schema. Each format says what it expects in words (used in error
 * messages and the generated reference), checks a value, and turns the string an environment variable
 * or a command-line flag gives into the value's type. A string that does not parse is passed on
 * unchanged, so the error names what the operator wrote ("abc"), not NaN.
 *
 * The formats are registered with convict under the same names, so its strict validation runs them too.
 */
import { accessSync, constants as fsConstants } from 'node:fs'
import { isIP } from 'node:net'
import convict from 'convict'
import { KAFKA_TOPIC_RULE, kafkaTopicProblem } from '../backends/kafka/topic-name.js'
import { subjectProblem } from '../backends/nats/nats-subject.js'
import { isProblem, type Problem } from './problem.js'

export interface Format {
  readonly name: string
  /** What a valid value looks like, completing "must be ...". */
  readonly expect: string
  /**
   * true when valid; when not: false, a more precise reason completing "must ...", or a Problem
   * pointing inside a structured value (a route, a listener).
   */
  check(value: unknown): boolean | string | Problem
  /** Parse an env/CLI string. */
  coerce?(raw: string): unknown
}

const registered = new Set<string>()

function define(format: Format): Format {
  if (!registered.has(format.name)) {
    registered.add(format.name)
    convict.addFormat({
      name: format.name,
      validate: (value: unknown) => {
        const r = format.check(value)
        if (r === true) return
        if (isProblem(r)) throw new Error(`${r.at}: must ${r.must}`)
        throw new Error(`must ${typeof r === 'string' ? r : `be ${format.expect}`}`)
      },
      coerce: format.coerce === undefined ? undefined : (raw: string) => format.coerce?.(raw),
    })
  }
  return format
}

/**
 * A format of strings: anything else is invalid, and `check` sees only strings. With `emptyAllowed`
 * the empty string means "not set" and is valid.
 */
function stringFormat(
  name: string,
  expect: string,
  check: (s: string) => boolean | string,
  emptyAllowed = false,
): Format {
  return define({
    name,
    expect,
    check: (v) => typeof v === 'string' && ((emptyAllowed && v === '') || check(v)),
  })
}

const INTEGER = /^\s*[+-]?\d+\s*$/
const toInteger = (raw: string): unknown => (INTEGER.test(raw) ? Number(raw) : raw)

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v)

/** A whole number from `min` to `max`; env and CLI strings parse with `coerce`. */
function wholeNumber(
  name: string,
  expect: string,
  min: number,
  coerce: (raw: string) => unknown,
  max = Number.MAX_SAFE_INTEGER,
): Format {
  return define({ name, expect, check: (v) => isInt(v) && v >= min && v <= max, coerce })
}

export const port = wholeNumber('eb-port', 'a port number (0-65535)', 0, toInteger, 65535)
export const nonNegativeInt = wholeNumber('eb-non-negative-int', 'a whole number, 0 or more', 0, toInteger)
export const positiveInt = wholeNumber('eb-positive-int', 'a whole number, 1 or more', 1, toInteger)
export const durationMs = wholeNumber(
  'eb-duration-ms',
  'a duration in milliseconds (a whole number, 0 or more)',
  0,
  toInteger,
)

const SIZE = /^\s*(\d+)\s*(B|KiB|MiB|GiB|KB|MB|GB)?\s*$/i
const UNITS: Record<string, number> = {
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
}

/** Byte counts accept a unit in strings ("64MiB") so env and YAML stay readable. */
function parseSize(raw: string): unknown {
  const m = SIZE.exec(raw)
  if (m === null) return raw
  return Number(m[1]) * (UNITS[(m[2] ?? 'b').toLowerCase()] ?? 1)
}

export const bytes = wholeNumber(
  'eb-bytes',
  'a size in bytes (a whole number, or with a unit: 512KiB, 64MiB, 1GiB)',
  0,
  parseSize,
)
export const positiveBytes = wholeNumber(
  'eb-positive-bytes',
  'a size in bytes, 1 or more (a whole number, or with a unit: 512KiB, 64MiB, 1GiB)',
  1,
  parseSize,
)

const TRUE = new Set(['true', '1', 'yes', 'on'])
const FALSE = new Set(['false', '0', 'no', 'off'])

export const bool = define({
  name: 'eb-boolean',
  expect: 'true or false',
  check: (v) => typeof v === 'boolean',
  coerce: (raw) => {
    const s = raw.trim().toLowerCase()
    return TRUE.has(s) ? true : FALSE.has(s) ? false : raw
  },
})

/** true, false or null ("auto": decided by the listener address). */
export const boolOrAuto = define({
  name: 'eb-boolean-or-auto',
  expect: 'true, false or null (auto)',
  check: (v) => typeof v === 'boolean' || v === null,
  coerce: (raw) => {
    const s = raw.trim().toLowerCase()
    if (s === 'auto' || s === 'null' || s === '') return null
    return TRUE.has(s) ? true : FALSE.has(s) ? false : raw
  },
})

export const string = define({
  name: 'eb-string',
  expect: 'a string',
  check: (v) => typeof v === 'string',
})

export const nonEmptyString = define({
  name: 'eb-non-empty-string',
  expect: 'a non-empty string',
  check: (v) => typeof v === 'string' && v.trim().length > 0,
})

const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,62})(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,62}))*\.?$/

export function isHost(v: string): boolean {
  const bare = v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v
  return isIP(bare) !== 0 || HOSTNAME.test(v)
}

export const host = define({
  name: 'eb-host',
  expect: 'a host name or IP address (no scheme, no port)',
  check: (v) => typeof v === 'string' && isHost(v),
})

/** A file path; empty means "not set". A set path must name a readable file when the config loads. */
export const filePath = stringFormat(
  'eb-file-path',
  'the path of a readable file, or empty',
  (v) => {
    if (v.includes('\u0000')) return 'not contain the null character'
    try {
      accessSync(v, fsConstants.R_OK)
      return true
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      return `be the path of a readable file (${code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable')})`
    }
  },
  true,
)

export const dirPath = define({
  name: 'eb-dir-path',
  expect: 'a directory path',
  check: (v) => typeof v === 'string' && v.trim().length > 0 && !v.includes('\u0000'),
})

/** Comma-separated in env and on the command line; blanks and surrounding spaces are ignored. */
export function splitList(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

/** A list of strings (comma-separated in env and on the command line), each checked by `itemProblem`. */
function stringList(
  name: string,
  expect: string,
  listIs: string,
  itemProblem: (item: string) => string | undefined,
  nonEmpty: boolean,
): Format {
  return define({
    name,
    expect,
    check: (v) => {
      if (!Array.isArray(v) || (nonEmpty && v.length === 0)) return false
      for (const item of v) {
        if (typeof item !== 'string') return false
        const p = itemProblem(item)
        if (p !== undefined) return `be ${listIs}: ${p}`
      }
      return true
    },
    coerce: splitList,
  })
}

function natsServerProblem(s: string): string | undefined {
  const withScheme = /^[a-z]+:\/\//i.test(s) ? s : `nats://${s}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    return `${JSON.stringify(s)} is not a URL`
  }
  if (!['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol))
    return `${JSON.stringify(s)} has scheme ${url.protocol} (use nats://, tls://, ws:// or wss://)`
  if (url.hostname === '') return `${JSON.stringify(s)} has no host`
  return undefined
}

export const natsServers = stringList(
  'eb-nats-servers',
  'a non-empty list of NATS server URLs (nats://host:port, comma-separated in env)',
  'a list of NATS server URLs',
  natsServerProblem,
  true,
)

function brokerProblem(s: string): string | undefined {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(s)
  if (m === null) return `${JSON.stringify(s)} is not host:port`
  const p = Number(m[2])
  if (!isHost(m[1] as string)) return `${JSON.stringify(s)} has an invalid host`
  if (p < 1 || p > 65535) return `${JSON.stringify(s)} has an invalid port`
  return undefined
}

export const kafkaBrokers = stringList(
  'eb-kafka-brokers',
  'a non-empty list of Kafka brokers as host:port (comma-separated in env)',
  'a list of host:port',
  brokerProblem,
  true,
)

export const redisUrl = stringFormat(
  'eb-redis-url',
  'a Redis URL (redis://host:port/db or rediss:// for TLS)',
  (v) => {
    try {
      const url = new URL(v)
      return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== ''
    } catch {
      return false
    }
  },
)

/** NATS subjects a stream captures: wildcards allowed (nats-subject.ts has the one subject check). */
export const natsSubjects = stringList(
  'eb-nats-subjects',
  'a list of NATS subjects (wildcards * and > allowed; comma-separated in env)',
  'a list of NATS subjects',
  (subject) => {
    const p = subjectProblem(subject, true)
    return p === undefined ? undefined : `${JSON.stringify(subject)} ${p}`
  },
  false,
)

/** A subject prefix: subject tokens without wildcards, or empty for none. */
export const natsSubjectPrefix = stringFormat(
  'eb-nats-subject-prefix',
  'NATS subject tokens without wildcards (e.g. "edge.site1"), or empty',
  (v) => {
    const p = subjectProblem(v, false)
    return p === undefined ? true : `be NATS subject tokens without wildcards, or empty: it ${p}`
  },
  true,
)

export const kafkaTopic = define({
  name: 'eb-kafka-topic',
  expect: `a Kafka topic name (${KAFKA_TOPIC_RULE})`,
  check: (v) => typeof v === 'string' && kafkaTopicProblem(v) === undefined,
})

/** A fixed set of values. */
export function oneOf(values: readonly string[]): Format {
  return define({
    name: `eb-one-of:${values.join('|')}`,
    expect: `one of ${values.map((s) => JSON.stringify(s)).join(', ')}`,
    check: (v) => typeof v === 'string' && values.includes(v),
    coerce: (raw) => raw.trim(),
  })
}

/** A JSON value from env/CLI (routes, listeners); a file gives the structure directly. */
export function parseJsonOrRaw(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

/** Lists of structured entries (routes, listeners) are checked entry by entry by `check`. */
export function structuredList(
  name: string,
  expect: string,
  check: (v: unknown) => boolean | string | Problem,
): Format {
  return define({ name, expect, check, coerce: parseJsonOrRaw })
}
