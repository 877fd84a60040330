/**
 * Where the tests find the real servers. `npm test` (test/run-tests.ts) makes sure each one is
 * listening, starting its own when none is, and passes the addresses down in these variables.
 * A test that cannot reach its server fails; it is never skipped.
 */
export const testRedisUrl = (): string => process.env.EDGEBRIDGE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'
export const testNatsUrl = (): string => process.env.EDGEBRIDGE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222'
export const testKafkaBrokers = (): string[] =>
  (process.env.EDGEBRIDGE_TEST_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')

/** A name no other test (or earlier run) uses: for topics, streams, subjects, channels. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}
