/**
 * Reads a listener's certificate files into TLS options. Called at start and again on SIGHUP
 * (`reloadCertificates`), so a renewed certificate is picked up without dropping connected clients.
 */
import { readFile } from 'node:fs/promises'
import type { SecureContextOptions } from 'node:tls'
import type { ListenerConfig } from '../../config/types.js'
import { EdgebridgeError } from '../../errors.js'

async function read(file: string, what: string, listener: string): Promise<Buffer> {
  try {
    return await readFile(file)
  } catch (err) {
    throw new EdgebridgeError(
      'LISTEN_FAILED',
      `${listener}: cannot read ${what} ${file}: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
}

export async function readTlsFiles(config: ListenerConfig, listener: string): Promise<SecureContextOptions> {
  const { certFile, keyFile, caFile } = config.tls
  if (!certFile || !keyFile) {
    throw new EdgebridgeError(
      'LISTEN_FAILED',
      `${listener}: a ${config.type} listener needs tls.certFile and tls.keyFile`,
    )
  }
  const needsCa = config.tls.requireCertificate || config.tls.useIdentityAsUsername
  if (needsCa && !caFile) {
    throw new EdgebridgeError(
      'LISTEN_FAILED',
      `${listener}: client certificates need tls.caFile to verify them against`,
    )
  }
  const [cert, key, ca] = await Promise.all([
    read(certFile, 'certificate', listener),
    read(keyFile, 'private key', listener),
    caFile ? read(caFile, 'CA certificate', listener) : Promise.resolve(undefined),
  ])
  return ca ? { cert, key, ca } : { cert, key }
}
