import assert from 'node:assert/strict'
import { test } from 'node:test'
import kafkajs from 'kafkajs'
import { mapKafkaError, needsNewProducer } from '../../src/backends/kafka/errors.js'
import { BackendError } from '../../src/errors.js'

// kafkajs' type declarations lag its constructors (which take an error or message plus options).
type ErrorClass = new (e: unknown, options?: object) => Error
const KafkaJSConnectionError = kafkajs.KafkaJSConnectionError as unknown as ErrorClass
const KafkaJSNumberOfRetriesExceeded = kafkajs.KafkaJSNumberOfRetriesExceeded as unknown as ErrorClass
const KafkaJSProtocolError = kafkajs.KafkaJSProtocolError as unknown as ErrorClass
const KafkaJSSASLAuthenticationError = kafkajs.KafkaJSSASLAuthenticationError as unknown as ErrorClass
const KafkaJSNonRetriableError = kafkajs.KafkaJSNonRetriableError as unknown as ErrorClass
const ctx = { topics: ['t1'], brokers: ['b:9092'], createTopics: false }
const protocol = (type: string, retriable: boolean) =>
  new KafkaJSProtocolError({ message: type, type, code: 0, retriable })

function classify(err: unknown): { code: string; retriable: boolean } {
  const mapped = mapKafkaError(err, ctx)
  assert.ok(mapped instanceof BackendError, String(mapped))
  return { code: mapped.code, retriable: mapped.retriable }
}

test('kafka errors - connection failures behind retries are retriable BACKEND_UNAVAILABLE', () => {
  const inner = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED')
  const wrapped = new KafkaJSNumberOfRetriesExceeded(inner, { retryCount: 2, retryTime: 100 })
  assert.deepEqual(classify(wrapped), { code: 'BACKEND_UNAVAILABLE', retriable: true })
  assert.deepEqual(classify(protocol('NOT_LEADER_FOR_PARTITION', true)), {
    code: 'BACKEND_UNAVAILABLE',
    retriable: true,
  })
})

test('kafka errors - authentication and authorization are BACKEND_AUTH, not retriable', () => {
  assert.deepEqual(classify(new KafkaJSSASLAuthenticationError('SASL PLAIN authentication failed')), {
    code: 'BACKEND_AUTH',
    retriable: false,
  })
  const acl = new KafkaJSNonRetriableError(protocol('TOPIC_AUTHORIZATION_FAILED', false), {
    cause: protocol('TOPIC_AUTHORIZATION_FAILED', false),
  })
  assert.deepEqual(classify(acl), { code: 'BACKEND_AUTH', retriable: false })
})

test('kafka errors - too large is BACKEND_REJECTED; unknown topic is retriable and says what to do', () => {
  assert.deepEqual(classify(protocol('MESSAGE_TOO_LARGE', false)), {
    code: 'BACKEND_REJECTED',
    retriable: false,
  })
  const unknown = mapKafkaError(protocol('UNKNOWN_TOPIC_OR_PARTITION', true), ctx)
  assert.ok(unknown instanceof BackendError && unknown.retriable)
  assert.match(unknown.message, /t1 does not exist.*createTopics is false/)
})

test('kafka errors - lost producer state asks for a new producer; programming errors pass unchanged', () => {
  assert.equal(needsNewProducer(protocol('OUT_OF_ORDER_SEQUENCE_NUMBER', false)), true)
  assert.equal(needsNewProducer(protocol('NOT_LEADER_FOR_PARTITION', true)), false)
  const bug = new TypeError('x is undefined')
  assert.equal(mapKafkaError(bug, ctx), bug)
})
