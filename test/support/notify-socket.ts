/**
 * A stand-in for systemd's end of the notification socket: a unix datagram socket that records every
 * message a daemon sends to NOTIFY_SOCKET. Node cannot bind a unix datagram socket, so a few lines of
 * python3 (Debian's python3) hold it and print each datagram as one JSON line.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { findBinary } from './server-process.js'

const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("bound"), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps(data.decode("utf-8", "replace")), flush=True)
`

export interface NotifySocket {
  path: string
  /** Every message received, each as its KEY=VALUE lines parsed. */
  messages: Array<Record<string, string>>
  close(): Promise<void>
}

/** Why a notify test cannot run here, or undefined when it can. */
export function notifySocketUnavailable(): string | undefined {
  if (findBinary('python3') === null)
    return 'python3 is not installed (it holds the test notification socket)'
  if (findBinary('systemd-notify') === null) return 'systemd-notify is not installed (Debian package systemd)'
  return undefined
}

export async function openNotifySocket(): Promise<NotifySocket> {
  const dir = await mkdtemp(join(tmpdir(), 'edgebridge-notify-'))
  const path = join(dir, 'notify.sock')
  const child: ChildProcess = spawn('python3', ['-c', RECEIVER, path], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const messages: Array<Record<string, string>> = []
  let bound: () => void = () => undefined
  const ready = new Promise<void>((resolve) => (bound = resolve))
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const text = JSON.parse(line) as string
    if (text === 'bound') return bound()
    messages.push(
      Object.fromEntries(
        text.split('\n').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      ),
    )
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await Promise.race([
    ready,
    exited.then(() => Promise.reject(new Error('the notify socket receiver exited'))),
  ])
  return {
    path,
    messages,
    async close() {
      child.kill('SIGTERM')
      await exited
      await rm(dir, { recursive: true, force: true })
    },
  }
}
