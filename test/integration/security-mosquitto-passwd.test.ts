import { spawn, type ChildProcess } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { writePasswordEntry } from '../../src/ingress/auth/password-file.js'
import { mustConnect, tryConnect } from '../support/mqtt-connect.js'

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise((r) => s.close(r))
  return port
}

/** Starts a private Mosquitto (Debian package `mosquitto`) and resolves once its port accepts connections. */
async function startMosquitto(conf: string, port: number): Promise<ChildProcess> {
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()))
  let exited: Error | undefined
  child.once(
    'error',
    (err) => (exited = new Error(`cannot start mosquitto (install the "mosquitto" package): ${err.message}`)),
  )
  child.once('exit', (code) => (exited ??= new Error(`mosquitto exited with ${code}: ${stderr}`)))
  // Its log is block-buffered on a pipe, so readiness is judged by the port, not by a log line.
  for (;;) {
    if (exited) throw exited
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(false))
    })
    if (up) return child
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('security - password files are interchangeable with Mosquitto', () => {
  it('security - Mosquitto accepts a password file written by edgebridge', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgebridge-mosq-'))
    let mosquitto: ChildProcess | undefined
    try {
      const pw = join(dir, 'passwd')
      await writePasswordEntry(pw, 'device-1', 'correct horse', { create: true })
      // Mosquitto started as root drops to its own user, which must be able to read the file.
      await chmod(dir, 0o755)
      await chmod(pw, 0o644)
      const port = await freePort()
      const conf = join(dir, 'mosquitto.conf')
      await writeFile(
        conf,
        `listener ${port} 127.0.0.1\nallow_anonymous false\npassword_file ${pw}\nlog_dest stderr\n`,
      )
      mosquitto = await startMosquitto(conf, port)
      const url = `mqtt://127.0.0.1:${port}`
      const ok = await mustConnect(url, { username: 'device-1', password: 'correct horse' })
      await ok.endAsync()
      const bad = await tryConnect(url, { username: 'device-1', password: 'wrong' })
      assert.equal(bad.kind, 'refused')
    } finally {
      mosquitto?.kill('SIGTERM')
      if (mosquitto && mosquitto.exitCode === null) await new Promise((r) => mosquitto!.once('exit', r))
      await rm(dir, { recursive: true, force: true })
    }
  })
})
