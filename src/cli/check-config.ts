/** `edgebridge check-config`: validate and print the effective configuration with secrets masked. */
import { ConfigError } from '../errors.js'
import { loadConfig, maskSecrets, EX_CONFIG } from '../config/index.js'

export async function runCheckConfigCommand(args: string[]): Promise<number> {
  try {
    const config = loadConfig({ argv: args })
    process.stdout.write(JSON.stringify(maskSecrets(config), null, 2) + '\n')
    return 0
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`edgebridge: invalid configuration: ${err.message}\n`)
      return EX_CONFIG
    }
    throw err
  }
}
