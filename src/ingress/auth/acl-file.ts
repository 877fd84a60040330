/**
 * Mosquitto's `acl_file`, with Mosquitto 2's semantics so an existing file means the same here:
 *
 *   # comment
 *   topic [read|write|readwrite|deny] <filter>     before any `user` line: anonymous clients only
 *   user <name>
 *   topic [read|write|readwrite|deny] <filter>     this user's rules
 *   pattern [read|write|readwrite|deny] <filter>   every client, anywhere in the file; %c = client id, %u = username
 *
 * No access word means readwrite. A check runs the client's own `topic` rules first (a matching deny
 * refuses, a matching allow grants), then the patterns (deny first again); nothing matching means
 * refused. Patterns with %u never apply to a client without a username, and when patterns exist a
 * client whose username or id contains `+` or `#` is refused (it could otherwise widen its own rules).
 *
 * Publishing to `$SYS/` is refused to every client, ACL or not: that tree belongs to the broker.
 *
 * Mosquitto grants every SUBSCRIBE and filters at delivery with a read check. We keep the delivery
 * check (`canRead`, for aedes' authorizeForward) and also refuse a subscription that could never
 * deliver anything (no read rule shares a topic with it, or a deny rule covers it), so the device gets
 * SUBACK 0x80 instead of silence [MQTT-3.9.3-1].
 */
import { EdgebridgeError } from '../../errors.js'
import { readAuthFile } from './read-auth-file.js'
import {
  filterCovers,
  filtersIntersect,
  topicFilterProblem,
  topicMatches,
} from '../../routing/topic-filter.js'

export interface AclClient {
  clientId: string
  /** null/undefined for an anonymous client. */
  username?: string | null
}

const READ = 1
const WRITE = 2
const DENY = 0

interface Rule {
  filter: string
  access: number
}

type Mode = 'read' | 'write' | 'subscribe'

const ACCESS: Record<string, number> = { read: READ, write: WRITE, readwrite: READ | WRITE, deny: DENY }

/** Publishing into the broker's own tree is never allowed. */
function isSysTopic(topic: string): boolean {
  return topic === '$SYS' || topic.startsWith('$SYS/')
}

export interface Acl {
  canPublish(client: AclClient, topic: string): boolean
  canSubscribe(client: AclClient, filter: string): boolean
  /** Delivery check of one message to a subscriber (aedes authorizeForward). */
  canRead(client: AclClient, topic: string): boolean
}

/** The policy without an ACL file: everything but publishing to $SYS/. */
export function allowAllAcl(): Acl {
  return {
    canPublish: (_client, topic) => !isSysTopic(topic),
    canSubscribe: () => true,
    canRead: () => true,
  }
}

export class AclFile implements Acl {
  readonly file: string
  /** Username (null = anonymous) -> that user's rules, denies first. */
  private readonly users: Map<string | null, Rule[]>
  private readonly patterns: Rule[]

  constructor(file: string, users: Map<string | null, Rule[]>, patterns: Rule[]) {
    this.file = file
    this.users = users
    this.patterns = patterns
  }

  static parse(text: string, file: string): AclFile {
    const users = new Map<string | null, Rule[]>()
    const patterns: Rule[] = []
    let user: string | null = null
    const fail = (lineNo: number, why: string): never => {
      throw new EdgebridgeError('ACL_FILE_INVALID', `${file}:${lineNo}: ${why}`)
    }
    const lines = text.split('\n')
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim()
      if (line === '' || line.startsWith('#')) continue
      const m = /^(\S+)\s*(.*)$/.exec(line)!
      const keyword = m[1]!
      const rest = m[2]!
      if (keyword === 'user') {
        if (rest === '') fail(i + 1, 'missing username after "user"')
        user = rest
        continue
      }
      if (keyword !== 'topic' && keyword !== 'pattern') {
        fail(i + 1, `unknown keyword "${keyword}" (expected topic, pattern or user)`)
      }
      const a = /^(\S+)\s+(.+)$/.exec(rest)
      // As in Mosquitto: one word after the keyword is the filter, with readwrite access.
      let access = READ | WRITE
      let filter = rest
      if (a) {
        const word = a[1]!
        if (!(word in ACCESS))
          fail(i + 1, `invalid access "${word}" (expected read, write, readwrite or deny)`)
        access = ACCESS[word]!
        filter = a[2]!.trim()
      }
      if (filter === '') fail(i + 1, `missing topic filter after "${keyword}"`)
      const problem = topicFilterProblem(filter)
      if (problem !== undefined) fail(i + 1, `invalid topic filter "${filter}": it ${problem}`)
      const rule = { filter, access }
      const list = keyword === 'pattern' ? patterns : (users.get(user) ?? users.set(user, []).get(user)!)
      // Denies first, as Mosquitto orders them, so any matching deny wins over an allow in the same list.
      if (access === DENY) list.unshift(rule)
      else list.push(rule)
    }
    return new AclFile(file, users, patterns)
  }

  canPublish(client: AclClient, topic: string): boolean {
    if (isSysTopic(topic)) return false
    return this.check(client, topic, 'write')
  }

  canSubscribe(client: AclClient, filter: string): boolean {
    return this.check(client, filter, 'subscribe')
  }

  canRead(client: AclClient, topic: string): boolean {
    return this.check(client, topic, 'read')
  }

  private check(client: AclClient, subject: string, mode: Mode): boolean {
    const username = client.username ?? null
    const own = this.users.get(username) ?? []
    const verdict = this.evaluate(own, subject, mode)
    if (verdict !== undefined) return verdict
    if (this.patterns.length === 0) return false
    if ((username !== null && /[+#]/.test(username)) || /[+#]/.test(client.clientId)) return false
    const applicable: Rule[] = []
    for (const p of this.patterns) {
      if (username === null && p.filter.includes('%u')) continue
      applicable.push({ filter: substitute(p.filter, client.clientId, username), access: p.access })
    }
    return this.evaluate(applicable, subject, mode) ?? false
  }

  /** true/false when a rule decides, undefined when none applies. */
  private evaluate(rules: Rule[], subject: string, mode: Mode): boolean | undefined {
    for (const r of rules) {
      if (mode === 'subscribe') {
        if (r.access === DENY) {
          if (filterCovers(r.filter, subject)) return false
        } else if (r.access & READ && filtersIntersect(r.filter, subject)) return true
        continue
      }
      if (!topicMatches(r.filter, subject)) continue
      if (r.access === DENY) return false
      if (r.access & (mode === 'read' ? READ : WRITE)) return true
    }
    return undefined
  }
}

function substitute(filter: string, clientId: string, username: string | null): string {
  return filter.replace(/%([cu])/g, (whole, which: string) =>
    which === 'c' ? clientId : username === null ? whole : username,
  )
}

/** Reads and parses an ACL file; a missing or unreadable file is ACL_FILE_INVALID too. */
export async function loadAcl(file: string): Promise<AclFile> {
  const text = await readAuthFile(file, 'ACL_FILE_INVALID', 'ACL file')
  return AclFile.parse(text, file)
}
