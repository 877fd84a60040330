/**
 * Reference (a): the backend's own client publishing straight to the core, on the same schedule and
 * with the same acknowledgement semantics as the edgebridge backend (Redis: pipelined PUBLISH /
 * XADD; NATS: publish; JetStream: js.publish awaiting PubAcks; Kafka: idempotent producer with
 * acks=-1). It is the floor: what the core alone costs. Sends are never awaited before the next one
 * is issued (open loop); failures are counted.
 */
import { Redis } from 'ioredis'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { jetstream } from '@nats-io/jetstream'
import { Kafka, logLevel, type Producer } from 'kafkajs'
import type { CoreEndpoint } from './core-endpoint.js'
import { provenanceHeaders } from '../../src/record.js'

/** Device keys the Kafka reference rotates through (the closed-loop scenarios' default fleet). */
const REFERENCE_DEVICES = 20

export interface DirectPublisher {
  /** Publishes the payloads in order, without waiting; `onAck` runs once per confirmed message. */
  publish(payloads: Buffer[], onAck?: (count: number) => void): void
  errors(): number
  /** Sends a batch and resolves when the core confirmed it: for closed-loop throughput. */
  sendAndWait(payloads: Buffer[]): Promise<void>
  close(): Promise<void>
}

export async function createDirectPublisher(
  endpoint: CoreEndpoint,
  target: string,
): Promise<DirectPublisher> {
  let errors = 0
  const fail = (): void => {
    errors++
  }
  switch (endpoint.backend) {
    case 'redis':
    case 'redis-streams': {
      const redis = new Redis(endpoint.redisUrl, { lazyConnect: true })
      await redis.connect()
      const streams = endpoint.backend === 'redis-streams'
      const send = (payloads: Buffer[]): Promise<unknown> => {
        const pipeline = redis.pipeline()
        for (const p of payloads) {
          if (streams) pipeline.xadd(target, '*', 'payload', p)
          else pipeline.publish(target, p)
        }
        return pipeline.exec()
      }
      return {
        publish: (payloads, onAck) => void send(payloads).then(() => onAck?.(payloads.length), fail),
        sendAndWait: async (payloads) => void (await send(payloads)),
        errors: () => errors,
        close: async () => {
          await redis.quit().catch(() => redis.disconnect())
        },
      }
    }
    case 'nats': {
      const nc: NatsConnection = await connect({
        servers: endpoint.natsServers,
        name: 'edgebridge-bench-direct',
      })
      return {
        publish: (payloads, onAck) => {
          for (const p of payloads) nc.publish(target, p)
          if (onAck !== undefined) nc.flush().then(() => onAck(payloads.length), fail)
        },
        sendAndWait: async (payloads) => {
          for (const p of payloads) nc.publish(target, p)
          await nc.flush()
        },
        errors: () => errors,
        close: () => nc.close(),
      }
    }
    case 'jetstream': {
      const nc: NatsConnection = await connect({
        servers: endpoint.natsServers,
        name: 'edgebridge-bench-direct',
      })
      const js = jetstream(nc)
      const send = (payloads: Buffer[]): Promise<unknown> =>
        Promise.all(payloads.map((p) => js.publish(target, p)))
      return {
        publish: (payloads, onAck) => void send(payloads).then(() => onAck?.(payloads.length), fail),
        sendAndWait: async (payloads) => void (await send(payloads)),
        errors: () => errors,
        close: () => nc.close(),
      }
    }
    case 'kafka': {
      const kafka = new Kafka({
        brokers: endpoint.kafkaBrokers,
        clientId: 'edgebridge-bench-direct',
        logLevel: logLevel.NOTHING,
      })
      const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
      await producer.connect()
      // The same records edgebridge produces: a key per device and the seven provenance headers,
      // so the ratio compares the bridge with the client doing the same work, not with less.
      let seq = 0
      const send = (payloads: Buffer[]): Promise<unknown> =>
        producer.send({
          topic: target,
          acks: -1,
          messages: payloads.map((value) => {
            const clientId = `bench-device-${seq % REFERENCE_DEVICES}`
            const headers = provenanceHeaders({
              topic: `bench/${clientId}`,
              payload: value,
              qos: 1,
              retain: false,
              clientId,
              gatewayId: 'bench-gw',
              receivedAt: Date.now(),
              target,
              codec: 'raw',
              seq: ++seq,
            })
            return { key: clientId, value, headers }
          }),
        })
      return {
        publish: (payloads, onAck) => void send(payloads).then(() => onAck?.(payloads.length), fail),
        sendAndWait: async (payloads) => void (await send(payloads)),
        errors: () => errors,
        close: () => producer.disconnect(),
      }
    }
  }
}
