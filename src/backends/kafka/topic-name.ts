/**
 * The one check of a Kafka topic name, for `kafka.topic`, route targets and downlink sources alike:
 * at most 249 characters of [a-zA-Z0-9._-], and neither `.` nor `..` (kafka.common.internals.Topic
 * refuses both: they are path names in the broker's log directory).
 */
const LEGAL = /^[a-zA-Z0-9._-]{1,249}$/

export const KAFKA_TOPIC_RULE = '1-249 characters of a-z, A-Z, 0-9, ".", "_", "-", and not "." or ".."'

/** Why `name` is not a Kafka topic name, or undefined. */
export function kafkaTopicProblem(name: string): string | undefined {
  if (!LEGAL.test(name) || name === '.' || name === '..')
    return `must be a Kafka topic name (${KAFKA_TOPIC_RULE}; no wildcards)`
  return undefined
}
