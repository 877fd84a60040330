/**
 * Request/reply over Redis: pub/sub (a JSON envelope naming the reply channel) and Streams (a request
 * entry naming the reply stream), through the shared request scenarios with real MQTT devices.
 */
import { describe } from 'node:test'
import { Redis } from 'ioredis'
import { testRedisUrl, uniqueName } from '../support/env.js'
import { closeAtEnd } from '../support/daemon-under-test.js'
import { requestScenarios, type CoreAnswer, type Requester } from '../support/request-scenarios.js'

async function redis(): Promise<Redis> {
  const client = new Redis(testRedisUrl())
  closeAtEnd(() => client.quit())
  return client
}

function toAnswer(fields: Record<string, string>): CoreAnswer {
  return {
    status: fields.status ?? '',
    origin: fields.origin ?? '',
    device: fields['device-id'] ?? '',
    id: fields['correlation-id'] ?? '',
    payload: fields.payload ?? '',
    reason: fields.reason ?? '',
  }
}

async function pubSubRequester(): Promise<Requester> {
  const prefix = uniqueName('rq')
  const pub = await redis()
  const sub = await redis()
  const answers = new Map<string, CoreAnswer[]>()
  sub.on('message', (channel: string, message: string) =>
    answers.get(channel)?.push(toAnswer(JSON.parse(message) as Record<string, string>)),
  )
  return {
    config: (timeoutMs) => ({
      gatewayId: uniqueName('gw'),
      core: { backend: 'redis' },
      requests: { enabled: true, timeoutMs, rules: [{ source: `${prefix}.req.*.*` }] },
    }),
    async ask(device, method, payload, id) {
      const replyTo = uniqueName(`${prefix}.answers`)
      const got: CoreAnswer[] = []
      answers.set(replyTo, got)
      await sub.subscribe(replyTo)
      await pub.publish(
        `${prefix}.req.${device}.${method}`,
        JSON.stringify({ replyTo, payload, ...(id === undefined ? {} : { id }) }),
      )
      return got
    },
  }
}

async function streamsRequester(): Promise<Requester> {
  const requests = uniqueName('rq-requests')
  const client = await redis()
  const reader = await redis()
  const answers = new Map<string, CoreAnswer[]>()
  const replyTo = uniqueName('rq-answers')
  // The group exists before the gateway starts, so a request sent at once is not missed (the gateway
  // creates a missing group at the stream's end).
  const groupId = uniqueName('group')
  await client.xgroup('CREATE', requests, groupId, '0', 'MKSTREAM')
  let closed = false
  closeAtEnd(async () => {
    closed = true
  })
  // One reply stream for all requests: answers are told apart by correlation-id, as a core service would.
  void (async () => {
    let from = '0'
    while (!closed) {
      const reply = (await reader.xread('BLOCK', 200, 'STREAMS', replyTo, from).catch(() => null)) as
        [string, [string, string[]][]][] | null
      for (const [, entries] of reply ?? []) {
        for (const [entryId, flat] of entries) {
          from = entryId
          const fields: Record<string, string> = {}
          for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string
          answers.get(fields['correlation-id'] ?? '')?.push(toAnswer(fields))
        }
      }
    }
  })()
  return {
    config: (timeoutMs) => ({
      gatewayId: uniqueName('gw'),
      core: { backend: 'redis-streams', groupId },
      requests: { enabled: true, timeoutMs, rules: [{ source: requests }] },
    }),
    async ask(device, method, payload, id = uniqueName('req')) {
      const got: CoreAnswer[] = []
      answers.set(id, got)
      await client.xadd(
        requests,
        '*',
        'device',
        device,
        'method',
        method,
        'replyTo',
        replyTo,
        'id',
        id,
        'payload',
        payload,
      )
      return got
    },
  }
}

describe('requests - redis pub/sub', () => requestScenarios(pubSubRequester))
describe('requests - redis streams', () => requestScenarios(streamsRequester))
