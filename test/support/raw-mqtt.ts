/**
 * A raw TCP MQTT peer: writes exact bytes (valid packets from mqtt-packet, or garbage) and parses
 * what the broker answers. For protocol edge cases that a well-behaved client library will not send.
 */
import net from 'node:net'
import mqttPacket, { type Packet } from 'mqtt-packet'

export class RawMqtt {
  readonly packets: Packet[] = []
  closed = false
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 })
  private waiters: Array<() => void> = []

  private constructor(readonly socket: net.Socket) {
    this.parser.on('packet', (p: Packet) => {
      this.packets.push(p)
      this.wake()
    })
    socket.on('data', (d) => this.parser.parse(d))
    socket.on('close', () => {
      this.closed = true
      this.wake()
    })
    socket.on('error', () => undefined)
  }

  static connect(port: number): Promise<RawMqtt> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawMqtt(socket)))
      socket.once('error', reject)
    })
  }

  send(packet: Packet): void {
    this.socket.write(mqttPacket.generate(packet))
  }

  sendBytes(bytes: Buffer): void {
    this.socket.write(bytes)
  }

  /** Waits until a packet matching `predicate` arrived, or rejects when the connection closed first. */
  async waitFor(predicate: (p: Packet) => boolean, timeoutMs = 5000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.packets.find(predicate)
      if (found) return found
      if (this.closed) throw new Error('connection closed before the expected packet')
      if (Date.now() > deadline) throw new Error('timed out waiting for a packet')
      await this.nextEvent(deadline - Date.now())
    }
  }

  /** Resolves once the broker closed the connection (rejects after timeoutMs). */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open')
      await this.nextEvent(deadline - Date.now())
    }
  }

  close(): void {
    this.socket.destroy()
  }

  private nextEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, Math.max(1, ms))
      this.waiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}

export function connectPacket(clientId: string, clean = true): Packet {
  return { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean, clientId, keepalive: 60 } as Packet
}
