/**
 * Follows packet boundaries in an MQTT byte stream without parsing packets: a fixed header is a type
 * byte and a remaining length of one to four bytes, seven bits each, low first [MQTT-2.2.3]; the body
 * that follows is skipped without copying. The ingress reads both directions this way: the packet-size
 * guard on what a device sends, the acknowledgement holder on what aedes writes back.
 */

/** A fixed header read to its end. */
export interface FixedHeader {
  /** Bytes of the fixed header (type byte and remaining length). */
  headerBytes: number
  /** Bytes of the body that follows. */
  remaining: number
}

/** What a header byte made of the header: more to come, complete, or a fifth length byte [MQTT-2.2.3]. */
export type HeaderStep = 'more' | 'malformed' | FixedHeader

export class FixedHeaderScanner {
  /** Bytes of the current packet's body still to skip. */
  private bodyLeft = 0
  /** Bytes of the current fixed header seen so far (0 at a packet boundary or in a body). */
  private headerBytes = 0
  /** The remaining length decoded so far, and the weight of its next byte. */
  private value = 0
  private multiplier = 1

  /** Within a fixed header (some of its bytes seen, not all). */
  get inHeader(): boolean {
    return this.headerBytes > 0
  }

  /** Skip body bytes from `chunk[pos]` on; returns where the body (or the chunk) ends. */
  skipBody(chunk: Buffer, pos: number): number {
    if (this.bodyLeft === 0) return pos
    const n = Math.min(this.bodyLeft, chunk.length - pos)
    this.bodyLeft -= n
    return pos + n
  }

  /** The next byte, which is part of a fixed header. */
  header(byte: number): HeaderStep {
    if (this.headerBytes === 0) {
      // the type byte; the remaining length follows
      this.headerBytes = 1
      this.value = 0
      this.multiplier = 1
      return 'more'
    }
    this.headerBytes++
    this.value += (byte & 0x7f) * this.multiplier
    this.multiplier *= 128
    if ((byte & 0x80) !== 0) {
      if (this.headerBytes <= 4) return 'more'
      this.headerBytes = 0
      return 'malformed'
    }
    const done = { headerBytes: this.headerBytes, remaining: this.value }
    this.headerBytes = 0
    return done
  }

  /** The next `n` bytes are a body to skip (the caller does not take them itself). */
  skip(n: number): void {
    this.bodyLeft = n
  }
}
