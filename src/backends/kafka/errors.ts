/**
 * The one place kafkajs errors become BackendErrors. kafkajs wraps the error that decided an outcome
 * (KafkaJSNumberOfRetriesExceeded and KafkaJSNonRetriableError carry it as `cause`), so the chain is
 * walked to the most specific error before classifying.
 *
 * Classes, as the forwarder needs them:
 * - BACKEND_UNAVAILABLE, retriable: the cluster cannot be reached or is moving leaders (connection
 *   refused or closed, request timeouts, NOT_LEADER, LEADER_NOT_AVAILABLE, no broker available), and
 *   a topic that does not exist yet (an operator, or createTopics, can still create it).
 * - BACKEND_AUTH, not retriable: SASL authentication failed or an ACL forbids the topic or cluster.
 *   The forwarder keeps retrying slowly: credentials and ACLs are fixed from outside.
 * - BACKEND_REJECTED, not retriable: the cluster will never take this record as it is (too large,
 *   invalid topic name, invalid record).
 * - BACKEND_UNKNOWN: anything else, retriable as kafkajs says.
 * Programming errors (TypeError, RangeError...) are returned unchanged and never retried.
 */
import { BackendError, isProgrammingError, errorMessage } from '../../errors.js'

/** Protocol error types after which the idempotent producer's sequence state is useless: start a new producer. */
const PRODUCER_STATE_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'DUPLICATE_SEQUENCE_NUMBER',
])

const AUTH_TYPES = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
])

const REJECTED_TYPES = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_REQUIRED_ACKS',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'POLICY_VIOLATION',
])

const UNAVAILABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
])

interface KafkaJsLike {
  name?: string
  type?: string
  message?: string
  retriable?: boolean
  cause?: unknown
  originalError?: unknown
}

/** The innermost error kafkajs wrapped: the one that says what happened. */
export function rootKafkaError(err: unknown): KafkaJsLike {
  let current = err as KafkaJsLike
  for (let depth = 0; depth < 10; depth++) {
    const next = (current?.cause ?? current?.originalError) as KafkaJsLike | undefined
    if (next === undefined || next === null || typeof next !== 'object' || next === current) break
    current = next
  }
  return current ?? {}
}

/** The protocol error type (e.g. 'UNKNOWN_TOPIC_OR_PARTITION') anywhere in the chain, if any. */
export function kafkaErrorType(err: unknown): string | undefined {
  let current = err as KafkaJsLike | undefined
  for (let depth = 0; depth < 10 && current !== undefined && current !== null; depth++) {
    if (typeof current.type === 'string') return current.type
    current = (current.cause ?? current.originalError) as KafkaJsLike | undefined
  }
  return undefined
}

export function isUnknownTopic(err: unknown): boolean {
  return kafkaErrorType(err) === 'UNKNOWN_TOPIC_OR_PARTITION'
}

export function isMessageTooLarge(err: unknown): boolean {
  const type = kafkaErrorType(err)
  return type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE'
}

/** True when the idempotent producer must be replaced (its sequence numbers no longer match the broker's). */
export function needsNewProducer(err: unknown): boolean {
  const type = kafkaErrorType(err)
  return type !== undefined && PRODUCER_STATE_ERRORS.has(type)
}

export interface KafkaErrorContext {
  /** Topics of the batch, for the message. */
  topics: readonly string[]
  brokers: readonly string[]
  createTopics: boolean
}

/** Maps any error from a kafkajs call to a BackendError; programming errors are returned unchanged. */
export function mapKafkaError(err: unknown, ctx: KafkaErrorContext): Error {
  if (err instanceof BackendError) return err
  if (isProgrammingError(err)) return err as Error
  const root = rootKafkaError(err)
  const type = kafkaErrorType(err)
  const name = root.name ?? ''
  const detail = errorMessage(root)
  const topics = ctx.topics.join(', ')
  const brokers = ctx.brokers.join(',')

  if (type === 'UNKNOWN_TOPIC_OR_PARTITION') {
    const e = missingTopicError(ctx.topics, ctx.createTopics)
    return new BackendError(e.code as 'BACKEND_UNAVAILABLE', e.message, { retriable: true, cause: err })
  }
  if (name === 'KafkaJSSASLAuthenticationError' || (type !== undefined && AUTH_TYPES.has(type))) {
    return new BackendError(
      'BACKEND_AUTH',
      `Kafka refused the credentials or ACLs for ${topics}: ${detail}`,
      {
        retriable: false,
        cause: err,
      },
    )
  }
  if (type !== undefined && REJECTED_TYPES.has(type)) {
    return new BackendError(
      'BACKEND_REJECTED',
      `Kafka rejected the batch for ${topics}: ${type}: ${detail}`,
      {
        retriable: false,
        cause: err,
      },
    )
  }
  if (type !== undefined && PRODUCER_STATE_ERRORS.has(type)) {
    return new BackendError(
      'BACKEND_UNAVAILABLE',
      `Kafka producer state lost (${type}); a new producer sends again`,
      {
        retriable: true,
        cause: err,
      },
    )
  }
  if (UNAVAILABLE_NAMES.has(name) || type === 'NOT_LEADER_FOR_PARTITION' || type === 'LEADER_NOT_AVAILABLE') {
    return new BackendError('BACKEND_UNAVAILABLE', `Kafka cluster ${brokers} unavailable: ${detail}`, {
      retriable: true,
      cause: err,
    })
  }
  if (type !== undefined) {
    return new BackendError('BACKEND_UNKNOWN', `Kafka error ${type} for ${topics}: ${detail}`, {
      retriable: root.retriable !== false,
      cause: err,
    })
  }
  return new BackendError('BACKEND_UNKNOWN', `Kafka send to ${topics} failed: ${detail}`, {
    retriable: root.retriable !== false,
    cause: err,
  })
}

/** A topic the batch needs is missing and this backend will not create it. */
export function missingTopicError(topics: readonly string[], createTopics: boolean): BackendError {
  const hint = createTopics
    ? 'creating it failed or is not visible yet'
    : 'kafka.createTopics is false: create the topic on the cluster or enable createTopics'
  return new BackendError(
    'BACKEND_UNAVAILABLE',
    `Kafka topic ${topics.join(', ')} does not exist (${hint})`,
    {
      retriable: true,
    },
  )
}
