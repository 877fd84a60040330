/**
 * A gateway restart with requests in flight, the same on every backend: the daemon starts, one device
 * that never answers on its own gets `count` requests (sent by `ask`), the daemon stops and starts
 * again on the same MQTT port, and the device, reconnected, answers every request it got before the
 * restart. Resolves with the restarted daemon once it has counted those answers as matching nothing;
 * the caller then checks what its requesters got.
 */
import { Daemon } from '../../src/daemon.js'
import { silentLogger } from '../../src/observability/logger.js'
import { answeringDevice } from './answering-device.js'
import { testConfig } from './config.js'
import { closeAtEnd } from './daemon-under-test.js'
import { uniqueName } from './env.js'
import { waitUntil } from './wait-until.js'

export async function restartWithRequestsInFlight(
  overrides: Parameters<typeof testConfig>[0],
  count: number,
  ask: (deviceId: string) => Promise<unknown>,
): Promise<Daemon> {
  const config = testConfig(overrides)
  const first = await Daemon.start(config, silentLogger())
  const url = `mqtt://127.0.0.1:${first.ingress.ports()[0]}`
  const id = uniqueName('dev')
  // Never answers on its own: the gateway restarts while the requests wait.
  const device = await answeringDevice(url, id, () => undefined, { keepOpen: true })
  await ask(id)
  await waitUntil(() => device.requests.length >= count, 20_000, 'the requests at the device')
  await first.stop()
  const daemon = await Daemon.start(
    { ...config, mqtt: { ...config.mqtt, port: Number(new URL(url).port) } },
    silentLogger(),
  )
  closeAtEnd(() => daemon.stop())
  await device.client.endAsync(true)
  // The device answers after the restart: its answers match nothing any more.
  const again = await answeringDevice(url, id)
  for (const r of device.requests.slice(0, count))
    await again.client.publishAsync(`edgebridge/${id}/res/200/${r.id}`, 'late', { qos: 1 })
  await waitUntil(
    () => daemon.requests.counters.unmatchedAnswers === count,
    20_000,
    'the answers after the restart',
  )
  return daemon
}
