/**
 * A NATS outage under load (DESIGN.md invariants 2, 3, 4) with the jetstream backend: the daemon (a
 * child process, disk spool, fsync always) keeps acknowledging devices into its spool while its
 * nats-server is stopped for 30 s, and forwards the whole backlog, in order, once the server is back.
 *
 * The nats-server is private (startNatsServer): its JetStream store directory outlives stop()/start(),
 * so the stream holds the whole run and an ordered consumer reads it once at the end, in stream order.
 * The daemon creates the stream itself (nats.stream.create) for the subjects under its prefix.
 */
import { test } from 'node:test'
import { uniqueName } from '../support/env.js'
import { startNatsServer } from '../support/servers.js'
import { jetStreamCollector } from './core-collectors.js'
import { crashTestStart, outageUnderLoad } from './scenario.js'

const DEVICES = 20
const RATE_PER_SECOND = 500 // the whole fleet
const OUTAGE_MS = 30_000 // 30 s without NATS

test('outage - a 30 s NATS outage under load loses nothing acknowledged and drains in order (jetstream)', async (t) => {
  const { cleanup, dataDir } = await crashTestStart(t)
  const nats = await startNatsServer()
  cleanup.add(nats, (x) => x.close())

  const name = uniqueName('outage')
  const streamName = name.replace(/[^A-Za-z0-9_-]/g, '_')
  const prefix = name.replace(/[^A-Za-z0-9_-]/g, '_')
  const collector = cleanup.add(jetStreamCollector(nats.url, streamName), (x) => x.close())
  await outageUnderLoad(cleanup, {
    backend: 'jetstream',
    coreName: 'NATS',
    core: nats,
    backendEnv: {
      EDGEBRIDGE_NATS_SERVERS: nats.url,
      EDGEBRIDGE_NATS_SUBJECT_PREFIX: prefix,
      EDGEBRIDGE_NATS_STREAM_NAME: streamName,
      EDGEBRIDGE_NATS_STREAM_SUBJECTS: `${prefix}.>`,
      EDGEBRIDGE_NATS_STREAM_CREATE: 'true',
    },
    gatewayId: name,
    dataDir,
    collector,
    // Subject <prefix>.sensors.<i>: one subject per device, all captured by the stream.
    topic: (i) => `sensors/${i}`,
    devices: DEVICES,
    ratePerSecond: RATE_PER_SECOND,
    outageMs: OUTAGE_MS,
  })
})
