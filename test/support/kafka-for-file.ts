/**
 * The Kafka brokers a test file talks to: run alone, the file starts its own broker (stopped after
 * everything else the file closes); under `npm test` the one it was given answers.
 */
import { before } from 'node:test'
import { closeAtEnd } from './daemon-under-test.js'
import { testKafkaBrokers } from './env.js'
import { ensureKafka, type KafkaHandle } from './kafka-server.js'

/** Call at the top of the file; the returned function gives the brokers once `before` ran. */
export function kafkaForFile(): () => string[] {
  let kafka: KafkaHandle | undefined
  let brokers: string[] = []
  before(async () => {
    kafka = await ensureKafka()
    brokers = kafka.brokers.length > 0 ? kafka.brokers : testKafkaBrokers()
  })
  // Registered first, so the broker stops after everything that uses it.
  closeAtEnd(async () => kafka?.stop())
  return () => brokers
}
