/**
 * The daemon under systemd's protocol (Type=notify, WatchdogSec=), through the real `systemd-notify`
 * tool, to a socket standing in for systemd's: READY=1 once it is started, with a STATUS= line
 * (devices, backlog, core state) and our MAINPID; WATCHDOG=1 pings while it runs; STOPPING=1 on
 * SIGTERM. (A wedged forwarder stopping the pings: test/unit/watchdog.test.ts.)
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { DaemonProcess } from '../support/daemon-process.js'
import { testRedisUrl } from '../support/env.js'
import { notifySocketUnavailable, openNotifySocket } from '../support/notify-socket.js'
import { waitUntil } from '../support/wait-until.js'

const unavailable = notifySocketUnavailable()

it(
  'systemd - READY=1 with STATUS= and MAINPID, watchdog pings while running, STOPPING=1 on SIGTERM',
  { skip: unavailable },
  async (t) => {
    const socket = await openNotifySocket()
    t.after(() => socket.close())
    const daemon = await DaemonProcess.start({
      name: 'notify-daemon',
      env: {
        EDGEBRIDGE_BACKEND: 'redis',
        EDGEBRIDGE_REDIS_URL: testRedisUrl(),
        EDGEBRIDGE_SPOOL_KIND: 'memory',
        NOTIFY_SOCKET: socket.path,
        WATCHDOG_USEC: '600000', // 0.6 s: a ping every 0.2 s
      },
    })
    t.after(() => daemon.close())

    await waitUntil(() => socket.messages.some((m) => m.READY === '1'), 15_000, 'READY=1')
    const ready = socket.messages.find((m) => m.READY === '1')!
    assert.match(ready.STATUS ?? '', /^0 devices, backlog 0 records, core redis connected$/)
    assert.match(ready.MAINPID ?? '', /^\d+$/)
    await waitUntil(
      () => socket.messages.filter((m) => m.WATCHDOG === '1').length >= 5,
      15_000,
      'five watchdog pings',
    )

    await daemon.stop()
    await waitUntil(() => socket.messages.some((m) => m.STOPPING === '1'), 10_000, 'STOPPING=1')
  },
)
