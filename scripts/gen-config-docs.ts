/**
 * Writes docs/configuration.md from the config schema: `npx tsx scripts/gen-config-docs.ts`.
 * The output goes through prettier so `npm run format` leaves the file as generated.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import * as prettier from 'prettier'
import { configSchemaDocs } from '../src/config/index.js'

export const CONFIG_DOCS_PATH = fileURLToPath(new URL('../docs/configuration.md', import.meta.url))

export async function renderConfigDocs(): Promise<string> {
  const options = (await prettier.resolveConfig(CONFIG_DOCS_PATH)) ?? {}
  return prettier.format(configSchemaDocs(), { ...options, parser: 'markdown' })
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(CONFIG_DOCS_PATH, await renderConfigDocs())
  console.log('wrote docs/configuration.md')
}
