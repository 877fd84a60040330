/**
 * What a Kafka topic's own settings make of the producer's `acks=-1` (DESIGN.md invariant 2: the spool
 * lets a record go once the core confirms it; the confirmation is only worth what the topic keeps).
 *
 * `acks=-1` means "every replica in the in-sync set has it", and the in-sync set may shrink to the
 * leader alone unless `min.insync.replicas` forbids it. With replication but `min.insync.replicas=1`,
 * Kafka confirms records that only the leader holds; a leader crash then loses them, and no producer
 * can tell. edgebridge does not refuse to run (the topic belongs to the cluster's operators, and a
 * development broker has one replica), it says so once per topic at start, in the log.
 */
import kafkajs, { type Admin } from 'kafkajs'

// kafkajs is CommonJS and Node's ESM loader does not see this export by name.
const { ConfigResourceTypes } = kafkajs

export interface TopicDurability {
  topic: string
  /** Replicas of the topic's first partition (the topic's replication factor). */
  replicas: number
  /** The topic's effective min.insync.replicas (its own or the broker default). */
  minInsyncReplicas: number
}

/** What to log about a topic, or undefined when acks=-1 means what it says. */
export function durabilityNotice(
  d: TopicDurability,
): { level: 'warn' | 'info'; message: string } | undefined {
  if (d.replicas <= 1) {
    return {
      level: 'info',
      message:
        'Kafka topic has a single replica: a record is confirmed once one broker has it, and that broker ' +
        'failing loses it (fine for development; give production topics replication factor 3 and ' +
        'min.insync.replicas=2)',
    }
  }
  if (d.minInsyncReplicas < 2) {
    return {
      level: 'warn',
      message:
        `Kafka topic is replicated ${d.replicas} times but min.insync.replicas=${d.minInsyncReplicas}: ` +
        'acks=-1 can be confirmed by the leader alone, and a leader crash then loses records the gateway ' +
        'already removed from its spool; set min.insync.replicas=2 on the topic',
    }
  }
  return undefined
}

/** Reads each topic's replication factor and effective min.insync.replicas from the cluster. */
export async function readTopicDurability(
  admin: Admin,
  topics: readonly string[],
): Promise<TopicDurability[]> {
  const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] })
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({
      type: ConfigResourceTypes.TOPIC,
      name,
      configNames: ['min.insync.replicas'],
    })),
  })
  return topics.map((topic) => {
    const partition = metadata.find((t) => t.name === topic)?.partitions[0]
    const entry = resources
      .find((r) => r.resourceName === topic)
      ?.configEntries.find((e) => e.configName === 'min.insync.replicas')
    return {
      topic,
      replicas: partition?.replicas.length ?? 0,
      minInsyncReplicas: Number(entry?.configValue ?? 1),
    }
  })
}
