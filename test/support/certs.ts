/**
 * Test certificates made with the `openssl` command in a temporary directory: a CA, a server
 * certificate for 127.0.0.1/localhost, client certificates signed by that CA, and a second, unrelated
 * CA with a client certificate of its own (for "wrong CA" tests). Call `cleanup()` when done.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface CertPair {
  cert: string
  key: string
}

export interface TestCerts {
  dir: string
  ca: CertPair
  server: CertPair
  /** Client certificates signed by `ca`, by CN. */
  client(cn: string): Promise<CertPair>
  otherCa: CertPair
  /** A client certificate signed by `otherCa`. */
  otherClient: CertPair
  cleanup(): Promise<void>
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error('openssl not found: install the "openssl" package')
    throw err
  }
}

async function makeCa(dir: string, name: string): Promise<CertPair> {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) }
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      pair.key,
      '-out',
      pair.cert,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  )
  return pair
}

async function makeLeaf(dir: string, name: string, cn: string, ca: CertPair, ext: string): Promise<CertPair> {
  const pair = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) }
  const csr = join(dir, `${name}.csr`)
  const extFile = join(dir, `${name}.ext`)
  await writeFile(extFile, ext)
  await openssl(
    [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      pair.key,
      '-out',
      csr,
    ],
    dir,
  )
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      extFile,
      '-out',
      pair.cert,
    ],
    dir,
  )
  return pair
}

export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'edgebridge-certs-'))
  const [ca, otherCa] = await Promise.all([makeCa(dir, 'ca'), makeCa(dir, 'other-ca')])
  const clientExt = 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n'
  const [server, otherClient] = await Promise.all([
    makeLeaf(
      dir,
      'server',
      'localhost',
      ca,
      'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
    ),
    makeLeaf(dir, 'other-client', 'intruder', otherCa, clientExt),
  ])
  let n = 0
  return {
    dir,
    ca,
    server,
    otherCa,
    otherClient,
    client: (cn) => makeLeaf(dir, `client-${n++}`, cn, ca, clientExt),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}
