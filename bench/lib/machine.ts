/**
 * What the numbers were measured on: they mean little without it.
 */
import os from 'node:os'
import { Redis } from 'ioredis'
import { connect } from '@nats-io/transport-node'
import type { CoreEndpoint } from './core-endpoint.js'

export interface MachineInfo {
  cpus: number
  cpuModel: string
  memoryMB: number
  os: string
  node: string
  backendVersion: string
}

export async function describeMachine(endpoint: CoreEndpoint): Promise<MachineInfo> {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryMB: Math.round(os.totalmem() / 1024 / 1024),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    backendVersion: await backendVersion(endpoint).catch(() => 'unknown'),
  }
}

async function backendVersion(endpoint: CoreEndpoint): Promise<string> {
  switch (endpoint.backend) {
    case 'redis':
    case 'redis-streams': {
      const redis = new Redis(endpoint.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 })
      try {
        await redis.connect()
        const info = await redis.info('server')
        return `Redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'}`
      } finally {
        redis.disconnect()
      }
    }
    case 'nats':
    case 'jetstream': {
      const nc = await connect({ servers: endpoint.natsServers })
      try {
        return `nats-server ${nc.info?.version ?? 'unknown'}`
      } finally {
        await nc.close()
      }
    }
    case 'kafka':
      // Kafka does not report its release over the protocol; the operator says it.
      return `Apache Kafka ${process.env.EDGEBRIDGE_BENCH_KAFKA_VERSION ?? '(version not given: set EDGEBRIDGE_BENCH_KAFKA_VERSION)'}`
  }
}

export function machineLine(m: MachineInfo): string {
  return `${m.cpus} CPUs (${m.cpuModel}), ${Math.round(m.memoryMB / 1024)} GB RAM, ${m.os}, Node ${m.node}, ${m.backendVersion}`
}
