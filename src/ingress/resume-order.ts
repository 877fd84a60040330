/**
 * Live deliveries to a client whose persistent session is being resumed wait for the replay of its
 * queue, so a new message never overtakes an older queued one [MQTT-4.6.0-6] (store/queue-replay.ts
 * tells the whole story).
 *
 * The hold is put on the client's QoS 1/2 delivery function (aedes 1.2 `client.deliverQoS`, which
 * aedes reads when it adds a subscription, so it must be replaced before the CONNECT is handled:
 * broker.ts does it as the connection arrives). QoS 0 is not held: it is never queued, and the
 * ordering rules are per QoS. After the replay:
 * - a message the replay sent from the queue is not sent again (its row was the delivery);
 * - any other goes out as aedes would have sent it, in the order the deliveries were made;
 * - if the connection is gone, nothing is sent: the message stays queued for the next connect.
 */
import type { Client } from 'aedes'
import type { ResumeReplays } from './store/queue-replay.js'

type Deliver = (packet: Record<string, unknown>, done: () => void) => void
type DeliveringClient = Client & { deliverQoS: Deliver; closed: boolean; conn: NodeJS.EventEmitter }

export function holdDeliveriesDuringReplay(client: Client, replays: ResumeReplays): void {
  const c = client as DeliveringClient
  const deliver = c.deliverQoS
  c.deliverQoS = (packet, done) => {
    const replay = c.id ? replays.replayOf(c.id) : undefined
    if (replay === undefined || packet.qos === 0) return deliver(packet, done)
    void Promise.race([replay.done, gone(c)]).then(() => {
      if (c.closed || replay.sent(packet)) done()
      else deliver(packet, done)
    })
  }
}

/** Per client, resolves when its connection closed: held deliveries must not outwait it. */
const closings = new WeakMap<DeliveringClient, Promise<void>>()

function gone(client: DeliveringClient): Promise<void> {
  if (client.closed) return Promise.resolve()
  let closing = closings.get(client)
  if (closing === undefined) {
    closing = new Promise((resolve) => client.conn.once('close', () => resolve()))
    closings.set(client, closing)
  }
  return closing
}
