/**
 * The whole daemon in this process with test defaults, and MQTT devices that record what they receive,
 * registered for closing in reverse order at the end of the file.
 */
import { after } from 'node:test'
import type { MqttClient } from 'mqtt'
import { Daemon } from '../../src/daemon.js'
import { silentLogger } from '../../src/observability/logger.js'
import { testConfig } from './config.js'
import { uniqueName } from './env.js'
import { connectDevice } from './ingress.js'

export interface ReceivedMessage {
  topic: string
  payload: string
  qos: number
}

const closers: Array<() => Promise<unknown>> = []
after(async () => {
  for (const close of closers.splice(0).reverse()) await close()
})

/** Closed at the end of the test file, after everything registered later. */
export function closeAtEnd(close: () => Promise<unknown>): void {
  closers.push(close)
}

export async function startTestDaemon(
  overrides: Parameters<typeof testConfig>[0],
): Promise<{ daemon: Daemon; url: string }> {
  const daemon = await Daemon.start(testConfig(overrides), silentLogger())
  closeAtEnd(() => daemon.stop())
  return { daemon, url: `mqtt://127.0.0.1:${daemon.ingress.ports()[0]}` }
}

/** A device subscribed (QoS 1) to `filters`, keeping every message it receives. */
export async function subscribedDevice(
  url: string,
  filters: string | string[],
): Promise<{ client: MqttClient; received: ReceivedMessage[] }> {
  const client = await connectDevice(url, uniqueName('dev'))
  closeAtEnd(() => client.endAsync())
  const received: ReceivedMessage[] = []
  client.on('message', (topic, payload, packet) =>
    received.push({ topic, payload: payload.toString(), qos: packet.qos }),
  )
  await client.subscribeAsync(filters, { qos: 1 })
  return { client, received }
}
