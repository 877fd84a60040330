import { backendNames } from '../../backends/registry.js'
import * as f from '../formats.js'
import { leaf, type Section } from './leaf.js'

/** Each gateway its own group, so every gateway receives every downlink message (set at load). */
export function defaultGroupId(gatewayId: string): string {
  return `edgebridge-${gatewayId}`
}

export const coreSection: Section = {
  backend: leaf({
    doc: "The core to forward to: `redis` (pub/sub), `redis-streams`, `nats` (core NATS), `jetstream` or `kafka`. MSight's MSIGHT_PUBSUB_BACKEND is read too.",
    format: f.oneOf(backendNames),
    default: 'redis',
    env: 'EDGEBRIDGE_BACKEND',
  }),
  groupId: leaf({
    doc: "NATS queue group and Kafka consumer group of the downlink (MSight's group_id). Empty = `edgebridge-<gatewayId>`: each gateway receives every downlink message.",
    format: f.string,
    default: '',
    env: 'EDGEBRIDGE_GROUP_ID',
  }),
}
