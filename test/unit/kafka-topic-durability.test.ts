import assert from 'node:assert/strict'
import { test } from 'node:test'
import { durabilityNotice } from '../../src/backends/kafka/topic-durability.js'

test('kafka topic durability - replicated with min.insync.replicas=1 is a warning', () => {
  const notice = durabilityNotice({ topic: 't', replicas: 3, minInsyncReplicas: 1 })
  assert.equal(notice?.level, 'warn')
  assert.match(notice?.message ?? '', /min\.insync\.replicas=1/)
})

test('kafka topic durability - replication 3 with min.insync.replicas=2 needs no word', () => {
  assert.equal(durabilityNotice({ topic: 't', replicas: 3, minInsyncReplicas: 2 }), undefined)
  assert.equal(durabilityNotice({ topic: 't', replicas: 2, minInsyncReplicas: 2 }), undefined)
})

test('kafka topic durability - a single replica is said at info level (development brokers)', () => {
  assert.equal(durabilityNotice({ topic: 't', replicas: 1, minInsyncReplicas: 1 })?.level, 'info')
})
