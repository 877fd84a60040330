/**
 * Bench devices that answer requests (the request-reply scenario), following the default request
 * convention (README, "Request/reply"): device `<prefix>-<n>` subscribes to `edgebridge/<id>/req/#`
 * and echoes each request's payload on `edgebridge/<id>/res/200/<request id>`, at once. Requests and
 * answers are QoS 1, as the gateway's default rule sends them.
 */
import mqtt from 'mqtt'
import { connectMany, noDelay } from './mqtt-devices.js'

export interface AnsweringDevices {
  readonly ids: string[]
  /** Answers published (each request is echoed once). */
  answered(): number
  close(): Promise<void>
}

export async function connectAnsweringDevices(
  port: number,
  count: number,
  idPrefix: string,
): Promise<AnsweringDevices> {
  let answered = 0
  const ids = Array.from({ length: count }, (_, i) => `${idPrefix}-${i}`)
  const clients = await connectMany(count, async (i) => {
    const id = ids[i] as string
    const client = await mqtt.connectAsync({
      host: '127.0.0.1',
      port,
      protocolVersion: 4,
      clientId: id,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
      keepalive: 300,
    })
    noDelay(client)
    const requests = `edgebridge/${id}/req/`
    client.on('message', (topic, payload) => {
      // edgebridge/<id>/req/<method>/<request id>
      const requestId = topic.slice(requests.length).split('/')[1]
      if (!topic.startsWith(requests) || requestId === undefined) return
      client.publish(`edgebridge/${id}/res/200/${requestId}`, payload, { qos: 1 })
      answered++
    })
    await client.subscribeAsync(`${requests}#`, { qos: 1 })
    return client
  })
  return {
    ids,
    answered: () => answered,
    close: async () => {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)))
    },
  }
}
