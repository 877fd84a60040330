/** One MQTT connection attempt, and how it ended: connected, refused with a CONNACK code, or closed. */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { ListenerHandle } from '../../src/ingress/listeners/create-listener.js'

export type ConnectOutcome =
  | { kind: 'connected'; client: MqttClient }
  | { kind: 'refused'; returnCode: number }
  | { kind: 'closed'; error?: string }

/** Connects once (no reconnect) and says how it ended. A connected client must be ended by the caller. */
export function tryConnect(url: string, options: IClientOptions = {}): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const client = mqtt.connect(url, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...options,
    })
    let lastError: string | undefined
    client.once('connect', () => resolve({ kind: 'connected', client }))
    client.on('error', (err: Error & { code?: number | string }) => {
      if (typeof err.code === 'number') {
        client.end(true)
        resolve({ kind: 'refused', returnCode: err.code })
      } else lastError = err.message
    })
    client.once('close', () => {
      client.end(true)
      resolve({ kind: 'closed', error: lastError })
    })
  })
}

export async function mustConnect(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const outcome = await tryConnect(url, options)
  if (outcome.kind !== 'connected') throw new Error(`expected a connection, got ${JSON.stringify(outcome)}`)
  return outcome.client
}

export const urlOf = (l: Pick<ListenerHandle, 'address'>, scheme = 'mqtt', path = ''): string =>
  `${scheme}://127.0.0.1:${l.address.port}${path}`
