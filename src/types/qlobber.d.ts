/**
 * The part of qlobber 8 the broker store uses (the package ships no types). QlobberSub is the trie
 * aedes-persistence matches subscriptions with; using the same one keeps the store's answers in the
 * order aedes' own in-memory store gives them.
 */
declare module 'qlobber' {
  interface QlobberOptions {
    separator?: string
    wildcard_one?: string
    wildcard_some?: string
    match_empty_levels?: boolean
  }
  export class QlobberTrue {
    constructor(options?: QlobberOptions)
    add(topic: string): this
    test(topic: string): boolean
  }
}

declare module 'qlobber/aedes/qlobber-sub.js' {
  interface QlobberSubEntry {
    clientId: string
    topic: string
    qos?: unknown
    rh?: unknown
    rap?: unknown
    nl?: unknown
  }
  export default class QlobberSub {
    constructor(options?: Record<string, unknown>)
    subscriptionsCount: number
    add(topic: string, entry: QlobberSubEntry): this
    remove(topic: string, entry: { clientId: string; topic: string }): this
    match(topic: string): QlobberSubEntry[]
  }
}

declare module 'aedes-persistence/abstract.js' {
  /** aedes-persistence's conformance suite: registers its cases with `test`. */
  export default function abstractPersistence(options: {
    test: unknown
    persistence: () => unknown
    testAsync?: boolean
    waitForReady?: boolean
  }): void
}
