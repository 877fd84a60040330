/**
 * Kafka compression codecs for kafkajs. kafkajs has none and gzip built in; the others are plugged
 * into its CompressionCodecs table from npm packages that install without fetching anything from
 * outside the npm registry (edge gateways often build offline images):
 *
 * - snappy: kafkajs-snappy (pure JavaScript, snappyjs), reads Kafka's xerial framing too.
 * - lz4: lz4-napi, LZ4 frame format as Kafka uses it; prebuilt binaries ship as npm packages per
 *   platform (x64, arm64, armv7 among them).
 * - zstd: @bokuweb/zstd-wasm (WebAssembly, no native build). Frames we write carry their content size;
 *   frames without one (as some Java producers write them) decompress into at most
 *   ZSTD_UNKNOWN_SIZE_LIMIT bytes, which matters only to a consumer.
 *
 * Codecs load lazily, on the first producer that uses them, so a gateway without compression never
 * loads native code.
 */
import { createRequire } from 'node:module'
import kafkajs from 'kafkajs'
import type { KafkaConfig } from '../../config/types.js'

export type KafkaCompression = KafkaConfig['compression']

const ZSTD_UNKNOWN_SIZE_LIMIT = 16 * 1024 * 1024 // 16 MiB
const ZSTD_LEVEL = 3 // zstd's own default: fast, good ratio

const require = createRequire(import.meta.url)
// kafkajs is CommonJS and Node's ESM loader cannot see CompressionCodecs as a named export.
const { CompressionCodecs, CompressionTypes } = kafkajs
type CompressionTypes = kafkajs.CompressionTypes

interface Encoder {
  buffer: Buffer
}
type Codec = () => {
  compress(encoder: Encoder): Promise<Buffer>
  decompress(buffer: Buffer): Promise<Buffer>
}

const registered = new Set<KafkaCompression>()

async function lz4Codec(): Promise<Codec> {
  const lz4 = (await import('lz4-napi')) as typeof import('lz4-napi')
  return () => ({
    compress: async (encoder) => lz4.compressFrame(encoder.buffer),
    decompress: async (buffer) => lz4.decompressFrame(buffer),
  })
}

async function zstdCodec(): Promise<Codec> {
  const zstd = (await import('@bokuweb/zstd-wasm')) as typeof import('@bokuweb/zstd-wasm')
  await zstd.init()
  return () => ({
    compress: async (encoder) => Buffer.from(zstd.compress(encoder.buffer, ZSTD_LEVEL)),
    decompress: async (buffer) =>
      Buffer.from(zstd.decompress(buffer, { defaultHeapSize: ZSTD_UNKNOWN_SIZE_LIMIT })),
  })
}

async function snappyCodec(): Promise<Codec> {
  return require('kafkajs-snappy') as Codec
}

/** Makes `compression` usable by kafkajs (producers and consumers of this process); returns its type. */
export async function registerCompression(compression: KafkaCompression): Promise<CompressionTypes> {
  switch (compression) {
    case 'none':
      return CompressionTypes.None
    case 'gzip':
      return CompressionTypes.GZIP
    case 'snappy':
      if (!registered.has('snappy')) CompressionCodecs[CompressionTypes.Snappy] = await snappyCodec()
      registered.add('snappy')
      return CompressionTypes.Snappy
    case 'lz4':
      if (!registered.has('lz4')) CompressionCodecs[CompressionTypes.LZ4] = await lz4Codec()
      registered.add('lz4')
      return CompressionTypes.LZ4
    case 'zstd':
      if (!registered.has('zstd')) CompressionCodecs[CompressionTypes.ZSTD] = await zstdCodec()
      registered.add('zstd')
      return CompressionTypes.ZSTD
    default: {
      const unknown: never = compression
      throw new TypeError(`unknown Kafka compression ${String(unknown)}`)
    }
  }
}

/** Registers every codec, for consumers (tests, downlink) that may meet any of them. */
export async function registerAllCompressions(): Promise<void> {
  for (const c of ['snappy', 'lz4', 'zstd'] as const) await registerCompression(c)
}
