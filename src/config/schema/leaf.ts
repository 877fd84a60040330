/**
 * The schema is a tree of sections whose leaves are config keys. Each leaf carries what convict needs
 * (doc, format, default, env) plus what the docs and error messages need (the default as the docs
 * show it when it depends on the machine, and whether the value is a secret).
 */
import * as f from '../formats.js'
import type { Format } from '../formats.js'

export interface LeafSpec<T> {
  doc: string
  format: Format
  default: T
  /** The environment variable; derived from the key (EDGEBRIDGE_<SECTION>_<KEY>) when not given. */
  env?: string
  /** The default as the reference shows it, when the real one depends on the host (host name...). */
  defaultDoc?: string
  /** Masked in logs and never echoed in error messages. */
  secret?: boolean
}

export class Leaf<T = unknown> {
  readonly doc: string
  readonly format: Format
  readonly default: T
  readonly env: string | undefined
  readonly defaultDoc: string | undefined
  readonly secret: boolean

  constructor(spec: LeafSpec<T>) {
    this.doc = spec.doc
    this.format = spec.format
    this.default = spec.default
    this.env = spec.env
    this.defaultDoc = spec.defaultDoc
    this.secret = spec.secret ?? false
  }
}

export interface Section {
  [key: string]: Leaf | Section
}

export const leaf = <T>(spec: LeafSpec<T>): Leaf<T> => new Leaf(spec)

/** EDGEBRIDGE_MQTT_MAX_PACKET_BYTES for ['mqtt', 'maxPacketBytes']. */
export function envNameFor(path: readonly string[]): string {
  return `EDGEBRIDGE_${path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`
}

/** Visit every leaf with its dotted path, in schema order. */
export function forEachLeaf(
  section: Section,
  visit: (path: string[], leaf: Leaf) => void,
  prefix: string[] = [],
): void {
  for (const [key, node] of Object.entries(section)) {
    const path = [...prefix, key]
    if (node instanceof Leaf) visit(path, node)
    else forEachLeaf(node, visit, path)
  }
}

/**
 * A secret and the file it may be read from instead (resolved at load, config/secret-files.ts): the
 * file keeps it out of the unit file and the environment.
 */
export function secretWithFile(doc: string, whatTheFileHolds: string): Record<string, Leaf> {
  return {
    password: leaf({ doc, format: f.string, default: '', secret: true }),
    passwordFile: leaf({
      doc: `File holding ${whatTheFileHolds} (one trailing newline is ignored); empty = none. Setting both this and \`password\` is an error.`,
      format: f.filePath,
      default: '',
    }),
  }
}

/** Sizes in the schema's defaults are written in MiB. */
export const MiB = 1024 * 1024

/** Where a durable part keeps its state: `disk` (the default) or `memory` (lost on exit). */
export function storageKind(doc: string): Leaf<string> {
  return leaf({ doc, format: f.oneOf(['disk', 'memory']), default: 'disk' })
}
