import { rulesShapeProblem } from '../../downlink/downlink-rules.js'
import * as f from '../formats.js'
import { leaf, type Section } from './leaf.js'

export const downlinkSection: Section = {
  enabled: leaf({
    doc: 'Deliver messages from the core to devices (commands), following downlink.rules.',
    format: f.bool,
    default: false,
  }),
  rules: leaf({
    doc: "Import rules, one per source: `{ source, topic?, qos? (1), retain? (false) }`. `source` is in the core's naming: a NATS subject (`*`, `>` wildcards), a Redis PSUBSCRIBE pattern (`redis`) or stream key (`redis-streams`), a Kafka topic. `topic` is the MQTT topic template: `{topic}` (default: the reverse of the uplink mapping, see README), `{1}`, `{2}`... (the source's wildcards), `{key}` (Kafka record key). core.groupId is the NATS queue group and the Kafka/Redis Streams consumer group. JSON in env.",
    format: f.structuredList(
      'eb-downlink-rules',
      'a list of downlink rules ({ source, topic?, qos?, retain? })',
      rulesShapeProblem,
    ),
    default: [],
  }),
}
