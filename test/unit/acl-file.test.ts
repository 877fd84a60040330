import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { EdgebridgeError } from '../../src/errors.js'
import { AclFile, allowAllAcl, loadAcl, type AclClient } from '../../src/ingress/auth/acl-file.js'
import {
  filterCovers,
  filtersIntersect,
  topicFilterProblem,
  topicMatches,
} from '../../src/routing/topic-filter.js'

const isValidFilter = (filter: string): boolean => topicFilterProblem(filter) === undefined

const ACL = `
# anonymous clients (no user line yet)
topic read public/#
topic write public/anon/in

user alice
topic readwrite sensors/alice/#
topic deny sensors/alice/secret
topic read sensors/#
topic write alarm

user bob
topic sensors/bob/#
topic deny sensors/#

# patterns: every client
pattern write devices/%c/up/#
pattern read devices/%c/down/#
pattern readwrite users/%u/#
pattern deny devices/%c/up/blocked
`

const acl = AclFile.parse(ACL, 'acl.conf')
const anon: AclClient = { clientId: 'anon1', username: null }
const alice: AclClient = { clientId: 'a1', username: 'alice' }
const bob: AclClient = { clientId: 'b1', username: 'bob' }
const carol: AclClient = { clientId: 'c1', username: 'carol' }

describe('acl - topic filter relations', () => {
  it('acl - matching, intersecting and covering filters', () => {
    assert.equal(topicMatches('a/+/c', 'a/b/c'), true)
    assert.equal(topicMatches('a/#', 'a'), true)
    assert.equal(topicMatches('a/+', 'a'), false)
    assert.equal(topicMatches('#', '$SYS/x'), false)
    assert.equal(topicMatches('$SYS/#', '$SYS/x'), true)
    assert.equal(filtersIntersect('a/+/c', 'a/b/#'), true)
    assert.equal(filtersIntersect('a/b', 'a/b/c'), false)
    assert.equal(filtersIntersect('a/#', 'a'), true)
    assert.equal(filtersIntersect('#', '$SYS/#'), false)
    assert.equal(filterCovers('a/#', 'a/+/c'), true)
    assert.equal(filterCovers('a/+', 'a/#'), false)
    assert.equal(filterCovers('a/+/c', 'a/+/c'), true)
    assert.equal(filterCovers('a/b/c', 'a/+/c'), false)
    assert.equal(isValidFilter('a/#/b'), false)
    assert.equal(isValidFilter('a/b+'), false)
    assert.equal(isValidFilter('+/x/#'), true)
    assert.equal(isValidFilter('a/\u0000'), false)
  })
})

describe('acl - Mosquitto 2 semantics', () => {
  const matrix: Array<[string, AclClient, 'pub' | 'sub' | 'read', string, boolean]> = [
    // Top-of-file rules apply to anonymous clients only.
    ['anon reads public', anon, 'read', 'public/x', true],
    ['anon cannot write public', anon, 'pub', 'public/x', false],
    ['anon writes its write topic', anon, 'pub', 'public/anon/in', true],
    ['alice does not inherit anonymous rules', alice, 'read', 'public/x', false],
    // A user's deny beats that user's allows, wherever it sits in the file.
    ['alice writes her tree', alice, 'pub', 'sensors/alice/t', true],
    ['alice denied secret (write)', alice, 'pub', 'sensors/alice/secret', false],
    ['alice denied secret (read)', alice, 'read', 'sensors/alice/secret', false],
    ['alice reads others', alice, 'read', 'sensors/bob/t', true],
    ['alice cannot write others', alice, 'pub', 'sensors/bob/t', false],
    ['alice write-only topic: no read', alice, 'read', 'alarm', false],
    ['alice write-only topic: write', alice, 'pub', 'alarm', true],
    ['bob: deny sensors/# beats his own allow', bob, 'pub', 'sensors/bob/t', false],
    // Patterns apply to everyone, with %c and %u substituted.
    ['pattern %c write', carol, 'pub', 'devices/c1/up/temp', true],
    ['pattern %c not another id', carol, 'pub', 'devices/c2/up/temp', false],
    ['pattern write is not read', carol, 'read', 'devices/c1/up/temp', false],
    ['pattern read down', carol, 'read', 'devices/c1/down/cmd', true],
    ['pattern deny', carol, 'pub', 'devices/c1/up/blocked', false],
    ['pattern %u', carol, 'pub', 'users/carol/x', true],
    ['pattern %u never matches anonymous', anon, 'pub', 'users/%u/x', false],
    ['pattern %c for anonymous', anon, 'pub', 'devices/anon1/up/x', true],
    ['user list allow decides before patterns', alice, 'pub', 'devices/a1/up/x', true],
    ['unmatched is refused', carol, 'pub', 'elsewhere', false],
    // $SYS is never writable.
    ['no $SYS publish', alice, 'pub', '$SYS/broker/x', false],
    // Subscriptions: granted when some read rule can deliver, refused when a deny covers them.
    ['sub wide filter intersecting a read rule', alice, 'sub', 'sensors/#', true],
    ['sub inside denied topic', alice, 'sub', 'sensors/alice/secret', false],
    ['sub own down tree', carol, 'sub', 'devices/c1/down/#', true],
    ['sub nothing readable', carol, 'sub', 'devices/c1/up/#', false],
    ['sub another device', carol, 'sub', 'devices/c2/down/#', false],
    ['sub $SYS with # rule refused', alice, 'sub', '$SYS/#', false],
    ['sub denied for bob', bob, 'sub', 'sensors/bob/#', false],
  ]
  for (const [name, client, op, subject, expected] of matrix) {
    it(`acl - ${name}`, () => {
      const got =
        op === 'pub'
          ? acl.canPublish(client, subject)
          : op === 'sub'
            ? acl.canSubscribe(client, subject)
            : acl.canRead(client, subject)
      assert.equal(got, expected)
    })
  }

  it('acl - a username or client id with + or # is refused pattern access', () => {
    assert.equal(acl.canPublish({ clientId: '#', username: 'carol' }, 'devices/#/up/x'), false)
    assert.equal(acl.canPublish({ clientId: 'c1', username: 'x+' }, 'devices/c1/up/x'), false)
  })

  it('acl - without an ACL file everything is allowed but publishing to $SYS/', () => {
    const open = allowAllAcl()
    assert.equal(open.canPublish(anon, 'any/topic'), true)
    assert.equal(open.canPublish(anon, '$SYS/broker/uptime'), false)
    assert.equal(open.canPublish(anon, '$SYS'), false)
    assert.equal(open.canSubscribe(anon, '#'), true)
    assert.equal(open.canRead(anon, 'x'), true)
  })

  it('acl - a malformed file is ACL_FILE_INVALID naming the file and line', async () => {
    // A filter with the null character matches no topic a client can name [MQTT-4.7.3-2]: refused.
    for (const bad of [
      'topic maybe a/b',
      'topic read a/#/b',
      'topic read a/\u0000/b',
      'user',
      'subscribe a/b',
      'pattern',
    ]) {
      assert.throws(
        () => AclFile.parse(`# c\n${bad}\n`, 'my.acl'),
        (err: unknown) =>
          err instanceof EdgebridgeError &&
          err.code === 'ACL_FILE_INVALID' &&
          err.message.startsWith('my.acl:2:'),
        bad,
      )
    }
    const dir = await mkdtemp(join(tmpdir(), 'edgebridge-acl-'))
    try {
      const file = join(dir, 'acl')
      await writeFile(file, 'topic read a/b\n')
      assert.equal((await loadAcl(file)).canRead(anon, 'a/b'), true)
      await assert.rejects(loadAcl(join(dir, 'missing')), { code: 'ACL_FILE_INVALID' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
