/**
 * Loading the configuration. Sources, lowest to highest precedence:
 *
 *   schema defaults < config file (--config <path> or EDGEBRIDGE_CONFIG) < environment < --section.key=value
 *
 * MSight's MSIGHT_* variables count as environment, below their EDGEBRIDGE_* counterparts. Everything
 * is validated strictly (unknown keys are errors); the first bad value stops start-up with a
 * ConfigError naming the key, the value and what was expected.
 */
import convict from 'convict'
import { descriptorOf } from '../backends/registry.js'
import { ConfigError } from '../errors.js'
import { parseCliArgs } from './cli-args.js'
import { readConfigFile } from './file-source.js'
import { applyMsightEnv } from './msight-env.js'
import { resolveSecretFiles } from './secret-files.js'
import { buildSchema, envNameFor, forEachLeaf, normalizeListeners, type Section } from './schema/index.js'
import type { EdgebridgeConfig } from './types.js'
import { problemLine } from './problem.js'
import { defaultGroupId } from './schema/core.js'
import { downlinkProblems } from './schema/downlink.js'
import { httpProblems } from './schema/http.js'
import { routesBackendProblems } from './schema/routes.js'
import { requestProblems } from './schema/requests.js'
import { schemaProblems } from './validate.js'

export interface LoadConfigOptions {
  /** Command-line arguments after the program name; default process.argv.slice(2). */
  argv?: readonly string[]
  /** Environment; default process.env. */
  env?: NodeJS.ProcessEnv
  /** Config file path; overrides --config and EDGEBRIDGE_CONFIG. */
  configFile?: string
}

type ConvictNode = Record<string, unknown>

function toConvictSchema(section: Section): ConvictNode {
  const out: ConvictNode = {}
  forEachLeaf(section, (path, leaf) => {
    let node = out
    for (const p of path.slice(0, -1)) node = (node[p] ??= {}) as ConvictNode
    node[path[path.length - 1] as string] = {
      doc: leaf.doc,
      format: leaf.format.name,
      default: leaf.default,
      env: leaf.env ?? envNameFor(path),
      sensitive: leaf.secret,
      nullable: leaf.default === null,
    }
  })
  return out
}

export function loadConfig(options: LoadConfigOptions = {}): EdgebridgeConfig {
  const argv = options.argv ?? process.argv.slice(2)
  const env = applyMsightEnv(options.env ?? process.env)
  const schema = buildSchema(env)

  const keys = new Set<string>()
  forEachLeaf(schema, (path) => keys.add(path.join('.')))
  const cli = parseCliArgs(argv, keys)

  // convict reads the environment itself (defaults < file < env); command-line values are set last.
  const conf = convict<ConvictNode>(toConvictSchema(schema) as never, { env, args: [] })
  const file = options.configFile ?? cli.configFile ?? nonEmpty(env.EDGEBRIDGE_CONFIG)
  if (file !== undefined) conf.load(readConfigFile(file, schema))
  for (const [key, value] of cli.sets) conf.set(key as never, value as never)

  const raw = conf.getProperties() as Record<string, unknown>
  const problems = schemaProblems(schema, raw)
  if (problems.length > 0) throw configError(problems)
  try {
    conf.validate({ allowed: 'strict', output: () => undefined })
  } catch (err) {
    // schemaProblems checks the same formats; this is the backstop for anything convict sees differently.
    throw new ConfigError((err as Error).message.split('\n').join('; '), { cause: err })
  }

  const config = raw as unknown as EdgebridgeConfig
  config.listeners = normalizeListeners(
    config.listeners as unknown as Record<string, unknown>[],
    config.mqtt.host,
  )
  if (config.core.groupId === '') config.core.groupId = defaultGroupId(config.gatewayId)
  if (config.nats.stream.subjects.length === 0 && config.nats.subjectPrefix !== '') {
    config.nats.stream.subjects = [`${config.nats.subjectPrefix}.>`]
  }
  // Before the cross-key rules, which look at the secrets' values (e.g. nats.user with nats.token).
  resolveSecretFiles(config)
  const cross = crossProblems(config)
  if (cross.length > 0) throw configError(cross)
  return config
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s
}

function configError(problems: string[]): ConfigError {
  const more =
    problems.length > 1 ? ` (and ${problems.length - 1} more: ${problems.slice(1).join('; ')})` : ''
  return new ConfigError(`${problems[0]}${more}`)
}

/** Rules that involve more than one key. */
function crossProblems(c: EdgebridgeConfig): string[] {
  const out: string[] = []
  if (c.forwarder.retryMaxMs < c.forwarder.retryInitialMs) {
    out.push(
      problemLine(
        'forwarder.retryMaxMs',
        c.forwarder.retryMaxMs,
        `be at least forwarder.retryInitialMs (${c.forwarder.retryInitialMs})`,
      ),
    )
  }
  if (c.spool.segmentBytes > c.spool.maxBytes) {
    out.push(
      problemLine(
        'spool.segmentBytes',
        c.spool.segmentBytes,
        `be at most spool.maxBytes (${c.spool.maxBytes})`,
      ),
    )
  }
  if (c.kafka.sasl.mechanism !== 'none' && c.kafka.sasl.username === '') {
    out.push(
      problemLine(
        'kafka.sasl.username',
        '',
        `be set when kafka.sasl.mechanism is ${JSON.stringify(c.kafka.sasl.mechanism)}`,
      ),
    )
  }
  out.push(...descriptorOf(c.core.backend).configProblems(c))
  if (c.nats.user !== '' && c.nats.token !== '') {
    out.push(
      problemLine(
        'nats.token',
        c.nats.token,
        'be empty when nats.user is set (choose one way to authenticate)',
        true,
      ),
    )
  }
  out.push(...routesBackendProblems(c))
  out.push(...downlinkProblems(c))
  out.push(...requestProblems(c))
  out.push(...httpProblems(c))
  return out
}
