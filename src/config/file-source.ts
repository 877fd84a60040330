/**
 * Reading the config file: JSON, or YAML when the name ends in .yml/.yaml. The file's shape is checked
 * against the schema before it is merged, so an unknown key (a typo) or a value where a section
 * belongs is reported with the file's name instead of being merged and half-ignored.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { extname } from 'node:path'
import { ConfigError } from '../errors.js'
import { isObject } from './problem.js'
import { Leaf, type Section } from './schema/leaf.js'

/**
 * The YAML parser, loaded with the first YAML file: a gateway configured by JSON or by its environment
 * alone never loads it (up to 290 KB of JavaScript that would stay in memory for the daemon's life).
 * `require`, not `import()`: loading the configuration is synchronous (SIGHUP reloads it too).
 */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml')
  return yaml.parse(text)
}

export function readConfigFile(path: string, schema: Section): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new ConfigError(
      `config file ${path}: cannot be read (${code === 'ENOENT' ? 'no such file' : (code ?? String(err))})`,
      {
        cause: err,
      },
    )
  }
  const ext = extname(path).toLowerCase()
  const yaml = ext === '.yml' || ext === '.yaml'
  let data: unknown
  try {
    data = yaml ? parseYaml(text) : text.trim() === '' ? null : JSON.parse(text)
  } catch (err) {
    const first = (err as Error).message.split('\n')[0]
    throw new ConfigError(`config file ${path}: invalid ${yaml ? 'YAML' : 'JSON'}: ${first}`, { cause: err })
  }
  if (data === null || data === undefined) return {}
  if (!isObject(data))
    throw new ConfigError(`config file ${path}: must hold an object of sections and keys at the top`)
  checkShape(data, schema, path)
  return data
}

function checkShape(data: Record<string, unknown>, schema: Section, file: string, prefix = ''): void {
  for (const [key, value] of Object.entries(data)) {
    const path = prefix === '' ? key : `${prefix}.${key}`
    const node = Object.prototype.hasOwnProperty.call(schema, key) ? schema[key] : undefined
    if (node === undefined) throw new ConfigError(`${path}: unknown key in config file ${file}`)
    if (node instanceof Leaf) continue
    if (!isObject(value)) {
      throw new ConfigError(
        `${path}: ${JSON.stringify(value)} is not valid: must be a section (an object of keys) in config file ${file}`,
      )
    }
    checkShape(value, node, file, path)
  }
}
