/**
 * The whole configuration schema, one section per file. Built per load because two defaults depend
 * on the environment (gatewayId: the host name; dataDir: $STATE_DIRECTORY).
 */
import { coreSection } from './core.js'
import { downlinkSection } from './downlink.js'
import { forwarderSection } from './forwarder.js'
import { gatewaySection } from './gateway.js'
import { httpSection } from './http.js'
import { kafkaSection } from './kafka.js'
import type { Section } from './leaf.js'
import { listenersSection } from './listeners.js'
import { mqttSection } from './mqtt.js'
import { natsSection } from './nats.js'
import { redisSection } from './redis.js'
import { requestsSection } from './requests.js'
import { routesSection } from './routes.js'
import { securitySection } from './security.js'
import { spoolSection } from './spool.js'
import { storeSection } from './store.js'

export function buildSchema(env: NodeJS.ProcessEnv): Section {
  return {
    ...gatewaySection(env),
    mqtt: mqttSection,
    ...listenersSection,
    security: securitySection,
    ...routesSection,
    spool: spoolSection,
    store: storeSection,
    forwarder: forwarderSection,
    core: coreSection,
    redis: redisSection,
    nats: natsSection,
    kafka: kafkaSection,
    downlink: downlinkSection,
    requests: requestsSection,
    http: httpSection,
  }
}

export { Leaf, envNameFor, forEachLeaf, type Section } from './leaf.js'
export { normalizeListeners } from './listeners.js'
