/**
 * Command-line overrides: `--section.key=value` or `--section.key value` for any config key (a bare
 * `--section.key` is `true`), and `--config <path>` for the config file. Flags that are not config
 * keys and have no dot (`--help`) are left to the caller; a dotted flag that names no key is an error,
 * so a typo never passes silently.
 */
import { ConfigError } from '../errors.js'

export interface CliConfigArgs {
  configFile: string | undefined
  /** [dotted key, raw value] in command-line order (a later one wins). */
  sets: Array<[string, string]>
}

export function parseCliArgs(argv: readonly string[], keys: ReadonlySet<string>): CliConfigArgs {
  const out: CliConfigArgs = { configFile: undefined, sets: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (!arg.startsWith('--') || arg === '--') continue
    const eq = arg.indexOf('=')
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq)
    const inline = eq === -1 ? undefined : arg.slice(eq + 1)
    const next = argv[i + 1]
    const takeNext = (): string | undefined => {
      if (inline !== undefined) return inline
      if (next !== undefined && !next.startsWith('--')) {
        i++
        return next
      }
      return undefined
    }
    if (name === 'config') {
      const path = takeNext()
      if (path === undefined || path === '')
        throw new ConfigError('--config: expects the path of a config file')
      out.configFile = path
    } else if (keys.has(name)) {
      out.sets.push([name, takeNext() ?? 'true'])
    } else if (name.includes('.')) {
      throw new ConfigError(`--${name}: unknown configuration key`)
    }
  }
  return out
}
