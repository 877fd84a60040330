/**
 * Device connections are accepted with Nagle's algorithm off. With it on, a small write (a request or
 * a downlink PUBLISH, a PUBACK) waits for the ACK of the previous one, which a quiet device delays by up
 * to 40 ms: the request/reply bench measured a 27 ms median round trip at 25 requests/s per device,
 * 1.7 ms without it.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect, Socket } from 'node:net'
import { once } from 'node:events'
import { Aedes } from 'aedes'
import { createListener } from '../../src/ingress/listeners/create-listener.js'
import { silentLogger } from '../../src/observability/logger.js'
import { listenerConfig } from '../support/security-broker.js'
import { waitUntil } from '../support/wait-until.js'

describe('listener - TCP options', () => {
  it('listener - an accepted device connection has Nagle off (setNoDelay(true))', async () => {
    const noDelay = new Map<Socket, boolean | undefined>()
    const original = Socket.prototype.setNoDelay
    Socket.prototype.setNoDelay = function (this: Socket, on?: boolean) {
      noDelay.set(this, on)
      return original.call(this, on)
    }
    after(() => {
      Socket.prototype.setNoDelay = original
    })
    const broker = await Aedes.createBroker()
    const listener = await createListener(listenerConfig(), broker, silentLogger())
    after(async () => {
      await listener.close()
      await new Promise<void>((resolve) => broker.close(() => resolve()))
    })
    const device = connect(listener.address.port, '127.0.0.1')
    await once(device, 'connect')
    const accepted = (): Socket | undefined =>
      [...noDelay.keys()].find(
        (s) => s.remotePort === device.localPort && s.localPort === listener.address.port,
      )
    await waitUntil(() => accepted() !== undefined, 5_000, 'the accepted socket')
    assert.equal(noDelay.get(accepted() as Socket), true)
    device.destroy()
  })
})
