/**
 * A real MQTT device following the default request convention (README, "Request/reply"): it subscribes
 * to `edgebridge/<id>/req/#`, receives `edgebridge/<id>/req/<method>/<reqId>` and answers on
 * `edgebridge/<id>/res/<status>/<reqId>` as its `behave` function says (undefined: no answer).
 */
import type { MqttClient } from 'mqtt'
import { closeAtEnd } from './daemon-under-test.js'
import { connectDevice } from './ingress.js'
import { uniqueName } from './env.js'

export interface DeviceRequest {
  method: string
  id: string
  payload: string
}

export type Behaviour = (
  request: DeviceRequest,
) => { status: string; payload: string; delayMs?: number } | undefined

export interface AnsweringDevice {
  id: string
  client: MqttClient
  /** Every request received, in order (duplicates too). */
  requests: DeviceRequest[]
}

/** Answers 200 with `<method>:<payload>:<device id>`. */
export const echo: Behaviour = (r) => ({ status: '200', payload: `${r.method}:${r.payload}` })

export async function answeringDevice(
  url: string,
  id: string,
  behave: Behaviour = echo,
  options: { clean?: boolean; keepOpen?: boolean } = {},
): Promise<AnsweringDevice> {
  const client = await connectDevice(url, id, { clean: options.clean ?? true })
  if (options.keepOpen !== true) closeAtEnd(() => client.endAsync(true))
  const requests: DeviceRequest[] = []
  const prefix = `edgebridge/${id}/req/`
  client.on('message', (topic, payload) => {
    if (!topic.startsWith(prefix)) return
    const [method, reqId] = topic.slice(prefix.length).split('/') as [string, string]
    const request = { method, id: reqId, payload: payload.toString() }
    requests.push(request)
    const answer = behave(request)
    if (answer === undefined) return
    const send = (): void =>
      void client
        .publishAsync(`edgebridge/${id}/res/${answer.status}/${reqId}`, `${answer.payload}:${id}`, { qos: 1 })
        .catch(() => undefined)
    if (answer.delayMs === undefined) send()
    else setTimeout(send, answer.delayMs)
  })
  await client.subscribeAsync(`${prefix}#`, { qos: 1 })
  return { id, client, requests }
}

/**
 * `count` devices that each echo a request's payload with status 200 after a random delay of up to
 * 50 ms, so answers come back out of request order and correlation is what matches them.
 */
export function echoFleet(url: string, count: number): Promise<AnsweringDevice[]> {
  return Promise.all(
    Array.from({ length: count }, () =>
      answeringDevice(url, uniqueName('dev'), (r) => ({
        status: '200',
        payload: r.payload,
        delayMs: Math.random() * 50,
      })),
    ),
  )
}
