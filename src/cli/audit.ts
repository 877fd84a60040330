/**
 * `edgebridge audit <name>`: reads what reached the core and checks each gateway's sequence there.
 *
 * The core and how to reach it come from the gateway's own configuration (`--config`, the
 * environment, `--<section>.<key>=...`: `core.backend`, `kafka.brokers`, `nats.servers`,
 * `redis.url` with their TLS and credentials), so on a gateway it needs nothing more than the name
 * to read. The loss ledgers (`--ledger`, once per gateway) say which gaps the gateways explained.
 *
 * Exit codes: 0 every gap explained and every device in order; 1 an unexplained gap or a reorder;
 * 64 usage (a bad option, a backend that keeps nothing); 66 no such topic, stream or ledger;
 * 69 the core cannot be reached; 78 an invalid configuration.
 */
import { parseArgs } from 'node:util'
import { loadConfig } from '../config/index.js'
import { EX_CONFIG, EX_NOINPUT, EX_UNAVAILABLE, EX_USAGE } from '../config/exit-code.js'
import { ConfigError, EdgebridgeError, errorMessage } from '../errors.js'
import { readLossLedger } from '../forwarder/loss-ledger.js'
import { AuditInputError } from '../audit/audit-errors.js'
import { formatReport, gatewayReport, LedgerIndex, type AuditReport } from '../audit/audit-report.js'
import { loadAuditSource } from '../audit/audit-source.js'
import type { StartPoint } from '../audit/audited-record.js'
import { Progress } from '../audit/progress.js'
import { SeqTracker } from '../audit/seq-tracker.js'

export const AUDIT_USAGE = `Usage: edgebridge audit <topic|stream|key> [options] [--config <file>] [--<section>.<key>=<value> ...]

Reads what reached the core (core.backend: kafka, jetstream or redis-streams) and reports per gateway
the seq range seen, gaps, duplicates and per-device order. Gaps a gateway's loss ledger records are
explained; any other gap, or a device's records out of order, fails the audit (exit 1).

Options:
  --ledger <file>      a gateway's <dataDir>/loss-ledger.jsonl (repeat for several gateways)
  --gateway <id>       report only this gateway
  --from-offset <n>    start at this offset (Kafka: in every partition; JetStream: stream
                       sequence; Redis: entry id); default: the oldest record
  --from-time <time>   start at the first record at or after this time (ISO 8601 or ms)
  --json               print the report as JSON
`

interface AuditArgs {
  name: string
  ledgers: string[]
  gateway: string | undefined
  from: StartPoint
  json: boolean
  /** What is left for the configuration loader (--config, --section.key=value). */
  configArgs: string[]
}

function usageError(message: string): number {
  process.stderr.write(`edgebridge audit: ${message}\n${AUDIT_USAGE}`)
  return EX_USAGE
}

function parseAuditArgs(args: string[]): AuditArgs | string {
  // Dotted keys and --config belong to the configuration loader; the rest is ours.
  const ours: string[] = []
  const configArgs: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const isConfig = arg.startsWith('--') && (arg.slice(2).split('=')[0]!.includes('.') || arg === '--config')
    const target = isConfig ? configArgs : ours
    target.push(arg)
    if (isConfig && !arg.includes('=') && args[i + 1] !== undefined && !args[i + 1]!.startsWith('--')) {
      target.push(args[++i]!)
    }
  }
  let parsed
  try {
    parsed = parseArgs({
      args: ours,
      allowPositionals: true,
      options: {
        ledger: { type: 'string', multiple: true },
        gateway: { type: 'string' },
        'from-offset': { type: 'string' },
        'from-time': { type: 'string' },
        json: { type: 'boolean' },
      },
    })
  } catch (err) {
    return errorMessage(err)
  }
  const { values, positionals } = parsed
  if (positionals.length !== 1) return 'expects one topic, stream or stream key to read'
  const from: StartPoint = {}
  if (values['from-offset'] !== undefined && values['from-time'] !== undefined) {
    return '--from-offset and --from-time exclude each other'
  }
  if (values['from-offset'] !== undefined) from.offset = values['from-offset']
  if (values['from-time'] !== undefined) {
    const raw = values['from-time']
    const time = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw)
    if (!Number.isFinite(time)) return `--from-time: ${JSON.stringify(raw)} is not a time (ISO 8601 or ms)`
    from.time = time
  }
  return {
    name: positionals[0]!,
    ledgers: values.ledger ?? [],
    gateway: values.gateway,
    from,
    json: values.json === true,
    configArgs,
  }
}

export async function runAuditCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(AUDIT_USAGE)
    return 0
  }
  const parsed = parseAuditArgs(args)
  if (typeof parsed === 'string') return usageError(parsed)
  try {
    const report = await audit(parsed)
    process.stdout.write((parsed.json ? JSON.stringify(report, null, 2) : formatReport(report)) + '\n')
    return report.ok ? 0 : 1
  } catch (err) {
    process.stderr.write(`edgebridge audit: ${errorMessage(err)}\n`)
    if (err instanceof ConfigError) return EX_CONFIG
    if (err instanceof AuditInputError) return EX_NOINPUT
    if (err instanceof EdgebridgeError && err.code === 'BACKEND_UNAVAILABLE') return EX_UNAVAILABLE
    if (err instanceof UsageError) return EX_USAGE
    throw err
  }
}

class UsageError extends Error {}

async function audit(args: AuditArgs): Promise<AuditReport> {
  const config = loadConfig({ argv: args.configArgs })
  const open = await loadAuditSource(config.core.backend)
  if (typeof open === 'string') throw new UsageError(open)
  // The ledgers first: a wrong path should not cost a read of millions of records.
  const ledger = args.ledgers.length > 0 ? new LedgerIndex() : undefined
  for (const path of args.ledgers) {
    try {
      const result = await readLossLedger(path, (entry) => ledger!.add(entry))
      if (result.damagedLines > 0) {
        process.stderr.write(`edgebridge audit: ${path}: ${result.damagedLines} damaged lines skipped\n`)
      }
    } catch (err) {
      throw new AuditInputError(`cannot read the loss ledger ${path}: ${errorMessage(err)}`, { cause: err })
    }
  }
  const source = await open(config, args.name, args.from)
  const trackers = new Map<string, SeqTracker>()
  let records = 0
  let withoutProvenance = 0
  const progress = new Progress(process.stderr, source.expected)
  try {
    for await (const r of source.records()) {
      records++
      progress.update(records)
      if (r.gatewayId === undefined || r.seq === undefined) {
        withoutProvenance++
        continue
      }
      if (args.gateway !== undefined && r.gatewayId !== args.gateway) continue
      let tracker = trackers.get(r.gatewayId)
      if (tracker === undefined) trackers.set(r.gatewayId, (tracker = new SeqTracker(r.gatewayId)))
      tracker.add(r.seq, r.clientId ?? '')
    }
  } finally {
    progress.done()
    await source.close()
  }
  const gateways = [...trackers.values()]
    .sort((a, b) => a.gatewayId.localeCompare(b.gatewayId))
    .map((t) => gatewayReport(t, ledger))
  return {
    backend: config.core.backend,
    name: source.description,
    records,
    withoutProvenance,
    gateways,
    ok: gateways.every((g) => g.unexplainedMissing === 0 && g.reorders === 0),
  }
}
