/**
 * What edgebridge knows about a core's naming and encoding, apart from its client: one descriptor per
 * backend, in the backend's folder, reached through the registry (registry.ts). Config validation,
 * the router and the downlink ask the descriptor; nothing outside backends/ decides by the backend's
 * name. A descriptor imports no client library, so asking it never loads kafkajs or ioredis.
 */
import type { EdgebridgeConfig, BackendName, RouteConfig } from '../config/types.js'
import { BackendError } from '../errors.js'
import type { Codec, SpooledRecord } from '../record.js'
import type { DownlinkMessage } from './backend.js'

/** A name a core cannot carry: thrown while a target is built, so the router refuses the message. */
export class TargetNameError extends TypeError {
  constructor(message: string) {
    super(message)
    this.name = 'TargetNameError'
  }
}

/** A downlink source, compiled: the names it matches and the wildcard captures it yields. */
export interface SourcePattern {
  readonly source: string
  /** How many captures match() returns. */
  readonly captures: number
  /** The captures (in MQTT form) when `subject` matches, else undefined. */
  match(subject: string): string[] | undefined
}

export interface BackendDescriptor {
  readonly name: BackendName
  /** The codecs a record may be encoded with on this core; a route with another one is refused at load. */
  readonly codecs: readonly Codec[]
  /** Why only these codecs, completing "the <name> backend ..." in an operator's error line. */
  readonly codecsWhy: string
  /** What a target is called in this core, for error lines: "Kafka topic", "NATS subject"... */
  readonly targetKind: string
  /** The route that applies when `routes` is empty (DESIGN.md, "Routing defaults"). */
  defaultRoute(config: EdgebridgeConfig): RouteConfig
  /** The key template of a route that sets none; undefined = no key. */
  readonly defaultKey: string | undefined
  /** Prepended to every target, default or configured. */
  targetPrefix(config: EdgebridgeConfig): string
  /**
   * Turns a value substituted into a target template into the core's naming (NATS: subject tokens);
   * throws TargetNameError when the core cannot carry it. Undefined = values are used as they are.
   */
  readonly escape: ((value: string) => string) | undefined
  /** Why `target` (prefix included) cannot be published to, or undefined. */
  targetProblem(target: string): string | undefined
  /** Why `source` is not a downlink source in this core's syntax, or undefined. */
  sourceProblem(source: string): string | undefined
  /** Compile a source sourceProblem() accepts. */
  compileSource(source: string): SourcePattern
  /** The MQTT topic a downlink message goes to by default: the reverse of the default route. */
  mqttTopic(message: DownlinkMessage, config: EdgebridgeConfig): string
  /**
   * Where a request rule that says nothing reads the device and the method (field templates,
   * requests/request-templates.ts): the source's wildcards, the record key, or named fields.
   */
  readonly requestFields: { readonly device: string; readonly method: string }
  /** Settings only this backend needs, checked at load: one problem line each (config/problem.ts). */
  configProblems(config: EdgebridgeConfig): string[]
}

/** For a backend with no settings of its own to check. */
export const noConfigProblems = (): string[] => []

/**
 * The default route of the cores whose names follow the MQTT topic (Redis, NATS): every topic to the
 * name made from it, raw, with no key.
 */
export const topicNamed: Pick<BackendDescriptor, 'defaultRoute' | 'defaultKey'> = {
  defaultRoute: () => ({ match: '#', target: '{topic}', codec: 'raw' }),
  defaultKey: undefined,
}

/** A source that is one exact name, with no wildcards (a Kafka topic, a Redis stream key). */
export function exactSource(source: string): SourcePattern {
  return { source, captures: 0, match: (s) => (s === source ? [] : undefined) }
}

/** `name` less `prefix` when it starts with it (and something is left), else `name` as is. */
export function withoutPrefix(name: string, prefix: string): string {
  return prefix !== '' && name.startsWith(prefix) && name.length > prefix.length
    ? name.slice(prefix.length)
    : name
}

/**
 * The backstop at send time for records spooled under an earlier configuration (start-up refuses a
 * route whose codec the backend cannot carry): such a record can never be sent, so it is rejected,
 * not retried.
 */
export function assertCarried(descriptor: BackendDescriptor, batch: readonly SpooledRecord[]): void {
  for (const record of batch) {
    if (!descriptor.codecs.includes(record.codec)) {
      throw new BackendError(
        'BACKEND_REJECTED',
        `codec ${record.codec} is not carried by the ${descriptor.name} backend (it ${descriptor.codecsWhy}); ` +
          `route ${record.topic} with codec ${descriptor.codecs.join(' or ')}`,
      )
    }
  }
}
