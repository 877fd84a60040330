/** An Ingress on a free loopback port over a given spool, for tests of the MQTT side alone. */
import mqtt from 'mqtt'
import { Ingress } from '../../src/ingress/ingress.js'
import type { RouteLookup } from '../../src/ingress/publish-gate.js'
import type { Logger } from '../../src/observability/logger.js'
import type { Spool } from '../../src/spool/spool.js'
import type { EdgebridgeConfig } from '../../src/config/types.js'
import { testConfig } from './config.js'

/** Every topic goes to a core name equal to the topic: enough to see records reach the spool. */
export const topicAsTarget: RouteLookup = { route: ({ topic }) => ({ target: topic, codec: 'raw' }) }

export async function startTestIngress(options: {
  spool: Spool
  logger: Logger
  config?: EdgebridgeConfig
  router?: RouteLookup
}): Promise<{ ingress: Ingress; url: string; port: number }> {
  const config = options.config ?? testConfig()
  const ingress = new Ingress({
    config,
    spool: options.spool,
    router: options.router ?? topicAsTarget,
    logger: options.logger,
  })
  await ingress.start()
  const port = ingress.ports()[0] as number
  return { ingress, port, url: `mqtt://127.0.0.1:${port}` }
}

export function connectDevice(
  url: string,
  clientId: string,
  extra: mqtt.IClientOptions = {},
): Promise<mqtt.MqttClient> {
  return mqtt.connectAsync(url, { clientId, reconnectPeriod: 0, connectTimeout: 5000, ...extra })
}
