/**
 * The configuration reference (docs/configuration.md), generated from the schema so it cannot drift:
 * `npx tsx scripts/gen-config-docs.ts` rewrites it and a unit test checks it is current.
 */
import { buildSchema, envNameFor, forEachLeaf, Leaf, type Section } from './schema/index.js'

const SECTION_TITLES: Record<string, string> = {
  '': 'Gateway',
  mqtt: 'MQTT broker (`mqtt`)',
  listeners: 'Listeners (`listeners`)',
  security: 'Security and limits (`security`)',
  routes: 'Routes (`routes`)',
  spool: 'Spool (`spool`)',
  store: 'Broker store (`store`)',
  forwarder: 'Forwarder (`forwarder`)',
  core: 'Core (`core`)',
  redis: 'Redis (`redis`)',
  nats: 'NATS and JetStream (`nats`)',
  kafka: 'Kafka (`kafka`)',
}

const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ')

function defaultText(leaf: Leaf): string {
  if (leaf.defaultDoc !== undefined) return leaf.defaultDoc
  return `\`${JSON.stringify(leaf.default)}\``
}

export function envFor(path: readonly string[], leaf: Leaf): string {
  return leaf.env ?? envNameFor(path)
}

export function configSchemaDocs(): string {
  // A fixed environment, so the reference does not show this machine's host name or directories.
  const schema: Section = buildSchema({})
  const groups = new Map<string, string[]>()
  forEachLeaf(schema, (path, leaf) => {
    const group =
      path.length === 1 && path[0] !== 'listeners' && path[0] !== 'routes' ? '' : (path[0] as string)
    const rows = groups.get(group) ?? []
    rows.push(
      `| \`${path.join('.')}\` | \`${envFor(path, leaf)}\` | ${cell(defaultText(leaf))} | ${cell(leaf.format.expect)} | ${cell(leaf.doc)}${leaf.secret ? ' (secret: masked in logs)' : ''} |`,
    )
    groups.set(group, rows)
  })
  // log.level belongs with the gateway keys.
  const log = groups.get('log')
  if (log !== undefined) {
    groups.get('')?.push(...log)
    groups.delete('log')
  }

  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema by scripts/gen-config-docs.ts; do not edit by hand. -->',
    '',
    'Sources, lowest to highest precedence: the defaults below, the config file (`--config <path>` or',
    '`EDGEBRIDGE_CONFIG`; JSON, or YAML when the name ends in `.yml`/`.yaml`), environment variables, and',
    'command-line flags `--section.key=value`. Unknown keys and invalid values stop start-up with exit',
    'code 78 (EX_CONFIG) and a message naming the key, the value and what was expected.',
    '',
    'Lists are comma-separated in environment variables and flags (`EDGEBRIDGE_NATS_SERVERS=nats://a:4222,nats://b:4222`);',
    '`routes` and `listeners` take JSON there. Byte sizes accept units in strings (`64MiB`, `1GiB`); durations',
    'are milliseconds.',
    '',
    '## MSight compatibility',
    '',
    'When the EDGEBRIDGE_* variable is not set, these MSight variables are read:',
    '',
    '| MSight variable | example | sets |',
    '|---|---|---|',
    '| `MSIGHT_PUBSUB_BACKEND` | `redis`, `nats`, `kafka` | `core.backend` |',
    '| `MSIGHT_NATS_SERVERS` | `"[\'nats://localhost:4222\']"` | `nats.servers` |',
    '| `MSIGHT_KAFKA_SERVERS` | `"[\'localhost:9092\']"` | `kafka.brokers` |',
    '',
    "MSight's `group_id` is a node setting in code; set `core.groupId` (`EDGEBRIDGE_GROUP_ID`) to the same value.",
    '',
  ]
  for (const [group, rows] of groups) {
    out.push(
      `## ${SECTION_TITLES[group] ?? group}`,
      '',
      '| key | env | default | expects | description |',
      '|---|---|---|---|---|',
    )
    out.push(...rows, '')
  }
  return out.join('\n')
}
