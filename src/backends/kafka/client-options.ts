/**
 * The kafkajs client configuration from edgebridge's `kafka` section: brokers, TLS, SASL, timeouts.
 * Reading the TLS files here (at connect) makes a wrong path fail start-up with its name, not the first send.
 */
import { readFile } from 'node:fs/promises'
import type { KafkaConfig as KafkaJsConfig, SASLOptions } from 'kafkajs'
import type { KafkaConfig } from '../../config/types.js'
import { ConfigError, errorMessage } from '../../errors.js'
import type { Logger } from '../../observability/logger.js'
import { kafkaLogCreator, kafkaLogLevel } from './log-bridge.js'

/**
 * kafkajs' own retries stay short: the forwarder retries with back-off, and a send must fail within
 * seconds while the cluster is down rather than hang for minutes (kafkajs' default for an idempotent
 * producer is to retry forever).
 */
export const CONNECTION_TIMEOUT_MS = 3_000 // 3 s to open a TCP (+TLS) connection
export const AUTHENTICATION_TIMEOUT_MS = 5_000 // 5 s for the SASL exchange
export const CLIENT_RETRY = { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 } // ~0.5 s in all

async function readFileOption(key: string, path: string): Promise<Buffer | undefined> {
  if (path === '') return undefined
  try {
    return await readFile(path)
  } catch (err) {
    throw new ConfigError(`kafka.tls.${key}: cannot read ${path}: ${errorMessage(err)}`, { cause: err })
  }
}

export function saslOptions(config: KafkaConfig): SASLOptions | undefined {
  const { mechanism, username, password } = config.sasl
  if (mechanism === 'none') return undefined
  if (username === '')
    throw new ConfigError(`kafka.sasl.username is empty but kafka.sasl.mechanism is ${mechanism}`)
  return { mechanism, username, password }
}

export async function kafkaClientOptions(config: KafkaConfig, logger: Logger): Promise<KafkaJsConfig> {
  if (config.brokers.length === 0 || config.brokers.some((b) => b.trim() === '')) {
    throw new ConfigError(
      `kafka.brokers must list at least one host:port, got ${JSON.stringify(config.brokers)}`,
    )
  }
  const options: KafkaJsConfig = {
    clientId: config.clientId,
    brokers: config.brokers,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    authenticationTimeout: AUTHENTICATION_TIMEOUT_MS,
    requestTimeout: config.requestTimeoutMs,
    retry: CLIENT_RETRY,
    logLevel: kafkaLogLevel(logger),
    logCreator: kafkaLogCreator(logger),
  }
  if (config.tls.enabled) {
    const [ca, cert, key] = await Promise.all([
      readFileOption('caFile', config.tls.caFile),
      readFileOption('certFile', config.tls.certFile),
      readFileOption('keyFile', config.tls.keyFile),
    ])
    options.ssl = {
      rejectUnauthorized: config.tls.rejectUnauthorized,
      ...(ca !== undefined ? { ca: [ca] } : {}),
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
    }
  }
  const sasl = saslOptions(config)
  if (sasl !== undefined) options.sasl = sasl
  return options
}
