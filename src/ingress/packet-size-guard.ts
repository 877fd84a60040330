/**
 * Enforces mqtt.maxPacketBytes before a packet is buffered.
 *
 * MQTT 3.1.1 lets a packet be up to 256 MiB (remaining length of four bytes, [MQTT-2.2.3]); aedes 1.x
 * has no limit of its own and its parser buffers the whole packet before handing it over, so one
 * client could make the gateway allocate hundreds of MiB. This guard follows the fixed headers of
 * the byte stream (type byte + variable-length remaining length) and skips over bodies without
 * copying; as soon as a header announces a packet larger than the limit, or the remaining-length
 * encoding is malformed (more than four bytes, [MQTT-2.2.3]), it reports the violation so that one
 * client is closed. It costs a few comparisons per chunk.
 */
import { FixedHeaderScanner } from './fixed-header-scanner.js'

export type PacketSizeViolation =
  { kind: 'too-large'; bytes: number; limit: number } | { kind: 'malformed-length' }

export class PacketSizeGuard {
  private readonly scanner = new FixedHeaderScanner()

  constructor(private readonly limitBytes: number) {}

  /** Feed the next chunk; returns a violation, or undefined while the stream is acceptable. */
  feed(chunk: Buffer): PacketSizeViolation | undefined {
    let pos = this.scanner.skipBody(chunk, 0)
    while (pos < chunk.length) {
      const step = this.scanner.header(chunk[pos++]!)
      if (step === 'more') continue
      if (step === 'malformed') return { kind: 'malformed-length' }
      const total = step.headerBytes + step.remaining
      if (total > this.limitBytes) return { kind: 'too-large', bytes: total, limit: this.limitBytes }
      this.scanner.skip(step.remaining)
      pos = this.scanner.skipBody(chunk, pos)
    }
    return undefined
  }
}
