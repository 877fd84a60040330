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

export type PacketSizeViolation =
  { kind: 'too-large'; bytes: number; limit: number } | { kind: 'malformed-length' }

export class PacketSizeGuard {
  /** Bytes of the current packet's body still to skip. */
  private bodyRemaining = 0
  /** Collecting a fixed header: the bytes of it seen so far (0 = at a packet boundary). */
  private headerBytes = 0
  private lengthValue = 0
  private lengthMultiplier = 1

  constructor(private readonly limitBytes: number) {}

  /** Feed the next chunk; returns a violation, or undefined while the stream is acceptable. */
  feed(chunk: Buffer): PacketSizeViolation | undefined {
    let pos = 0
    while (pos < chunk.length) {
      if (this.bodyRemaining > 0) {
        const skip = Math.min(this.bodyRemaining, chunk.length - pos)
        this.bodyRemaining -= skip
        pos += skip
        continue
      }
      const byte = chunk[pos++] as number
      if (this.headerBytes === 0) {
        // first byte: packet type and flags; the remaining length follows
        this.headerBytes = 1
        this.lengthValue = 0
        this.lengthMultiplier = 1
        continue
      }
      this.headerBytes++
      this.lengthValue += (byte & 0x7f) * this.lengthMultiplier
      this.lengthMultiplier *= 128
      if ((byte & 0x80) !== 0) {
        // a fifth length byte is malformed [MQTT-2.2.3]
        if (this.headerBytes > 4) return { kind: 'malformed-length' }
        continue
      }
      const total = this.headerBytes + this.lengthValue
      if (total > this.limitBytes) return { kind: 'too-large', bytes: total, limit: this.limitBytes }
      this.bodyRemaining = this.lengthValue
      this.headerBytes = 0
    }
    return undefined
  }
}
