/**
 * The audit's findings per gateway, and its verdict: every gap in a gateway's sequence at the core is
 * either explained by a line of that gateway's loss ledger (the gateway gave those records up, and
 * says why) or unexplained. Unexplained gaps and per-device reorders fail the audit; duplicates are
 * reported and allowed (at-least-once).
 */
import type { LossEntry, LossReason } from '../forwarder/loss-ledger.js'
import { RangeSet, type SeqRange, type SeqTracker } from './seq-tracker.js'

/** Ranges listed per gateway in the report (the counts are always whole). */
const MAX_LISTED_RANGES = 10

export interface GatewayReport {
  gatewayId: string
  records: number
  distinct: number
  lowestSeq: number | null
  highestSeq: number | null
  duplicates: number
  devices: number
  reorders: number
  reorderExamples: string[]
  gaps: number
  missing: number
  explainedMissing: number
  unexplainedMissing: number
  /** The first few unexplained ranges. */
  unexplained: SeqRange[]
  /** What the gateway's ledger says it gave up, by reason (whole ledger, not only this read). */
  ledger: Partial<Record<LossReason, number>> | null
}

export interface AuditReport {
  backend: string
  name: string
  /** Records read from the core. */
  records: number
  /** Records without the provenance the audit needs (gateway id and seq). */
  withoutProvenance: number
  gateways: GatewayReport[]
  ok: boolean
}

/** Ledger lines grouped by gateway: the ranges that explain gaps, and totals by reason. */
export class LedgerIndex {
  private readonly ranges = new Map<string, SeqRange[]>()
  private readonly totals = new Map<string, Partial<Record<LossReason, number>>>()

  add(entry: LossEntry): void {
    const totals = this.totals.get(entry.gatewayId) ?? {}
    totals[entry.reason] = (totals[entry.reason] ?? 0) + entry.count
    this.totals.set(entry.gatewayId, totals)
    if (entry.fromSeq === undefined || entry.toSeq === undefined) return
    const list = this.ranges.get(entry.gatewayId) ?? []
    list.push({ from: entry.fromSeq, to: entry.toSeq })
    this.ranges.set(entry.gatewayId, list)
  }

  coverage(gatewayId: string): RangeSet {
    return new RangeSet(this.ranges.get(gatewayId) ?? [])
  }

  totalsOf(gatewayId: string): Partial<Record<LossReason, number>> | null {
    return this.totals.get(gatewayId) ?? null
  }
}

export function gatewayReport(tracker: SeqTracker, ledger: LedgerIndex | undefined): GatewayReport {
  const coverage = ledger?.coverage(tracker.gatewayId)
  let gaps = 0
  let missing = 0
  let unexplainedMissing = 0
  const unexplained: SeqRange[] = []
  for (const gap of tracker.gaps()) {
    gaps++
    missing += gap.to - gap.from + 1
    const open = coverage === undefined ? [gap] : coverage.uncovered(gap)
    for (const r of open) {
      unexplainedMissing += r.to - r.from + 1
      if (unexplained.length < MAX_LISTED_RANGES) unexplained.push(r)
    }
  }
  return {
    gatewayId: tracker.gatewayId,
    records: tracker.records,
    distinct: tracker.distinct,
    lowestSeq: tracker.lowest ?? null,
    highestSeq: tracker.highest ?? null,
    duplicates: tracker.duplicates,
    devices: tracker.devices,
    reorders: tracker.reorders,
    reorderExamples: tracker.reorderExamples,
    gaps,
    missing,
    explainedMissing: missing - unexplainedMissing,
    unexplainedMissing,
    unexplained,
    ledger: ledger?.totalsOf(tracker.gatewayId) ?? null,
  }
}

function range(r: SeqRange): string {
  return r.from === r.to ? String(r.from) : `${r.from}..${r.to}`
}

/** The report as lines for a person. */
export function formatReport(report: AuditReport): string {
  const lines = [`audit of ${report.backend} ${report.name}: ${report.records} records read`]
  for (const g of report.gateways) {
    const seqs = g.lowestSeq === null ? 'no seqs' : `seq ${g.lowestSeq}..${g.highestSeq}`
    lines.push(
      `gateway ${g.gatewayId}: ${seqs}, ${g.distinct} distinct, ${g.duplicates} duplicates, ` +
        `${g.devices} devices, ${g.reorders} reorders`,
    )
    const ledger =
      g.ledger === null
        ? 'no ledger'
        : `ledger: ${Object.entries(g.ledger)
            .map(([reason, n]) => `${reason} ${n}`)
            .join(', ')}`
    lines.push(
      `  gaps: ${g.gaps} (${g.missing} seqs missing): ${g.explainedMissing} explained, ` +
        `${g.unexplainedMissing} unexplained; ${ledger}`,
    )
    if (g.unexplained.length > 0) lines.push(`  unexplained: ${g.unexplained.map(range).join(', ')}`)
    for (const example of g.reorderExamples) lines.push(`  reorder: ${example}`)
  }
  if (report.withoutProvenance > 0) {
    lines.push(
      `${report.withoutProvenance} records without gateway id and seq (not from edgebridge): skipped`,
    )
  }
  lines.push(report.ok ? 'audit: OK' : 'audit: FAILED (unexplained gaps or reorders)')
  return lines.join('\n')
}
