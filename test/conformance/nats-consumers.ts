/** Consumers for the NATS conformance tests: what reached the core, as a subscriber sees it. */
import { connect, type MsgHdrs } from '@nats-io/transport-node'
import { MIB, type ConformanceConsumer, type ReceivedMessage } from './suite.js'
import type { EdgebridgeConfig } from '../../src/config/types.js'

/** nats-server's default max_payload is 1 MiB and counts the headers too: leave room for them. */
export const NATS_MAX_TEST_PAYLOAD = MIB - 4096

export function headersToObject(h: MsgHdrs | undefined): Record<string, string> | undefined {
  if (h === undefined) return undefined
  const out: Record<string, string> = {}
  for (const k of h.keys()) out[k] = h.get(k)
  return out
}

/** Subscribes to the subject; resolves once the server has the subscription (flush round trip). */
export async function natsSubjectConsumer(
  config: EdgebridgeConfig,
  subject: string,
): Promise<ConformanceConsumer> {
  const nc = await connect({ servers: config.nats.servers })
  const received: ReceivedMessage[] = []
  nc.subscribe(subject, {
    callback: (err, msg) => {
      if (err === null)
        received.push({ payload: Buffer.from(msg.data), metadata: headersToObject(msg.headers) })
    },
  })
  await nc.flush()
  let closed = false
  return {
    received,
    close: async () => {
      if (closed) return
      closed = true
      await nc.close()
    },
  }
}
