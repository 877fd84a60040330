/**
 * `edgebridge audit` as a verdict beside the fleet's: run against the core with the gateways' loss
 * ledgers, its JSON report parsed, one line printed per gateway, and the audit's promise asserted (no
 * unexplained gap, no device out of order, exit 0).
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { AuditReport, GatewayReport } from '../../src/audit/audit-report.js'
import { LOSS_LEDGER_FILE } from '../../src/forwarder/loss-ledger.js'
import { edgebridgeCli } from '../support/edgebridge-cli.js'

export interface CoreAudit {
  report: AuditReport
  code: number | null
  stderr: string
}

/** Audits `name` at the core `env` reaches, with the ledgers of the gateways whose data dirs are given. */
export async function auditAtCore(
  label: string,
  name: string,
  env: Record<string, string>,
  dataDirs: readonly string[],
): Promise<CoreAudit> {
  const audit = await edgebridgeCli(
    ['audit', name, '--json', ...dataDirs.flatMap((dir) => ['--ledger', join(dir, LOSS_LEDGER_FILE)])],
    env,
    120_000,
  )
  assert.notEqual(audit.stdout, '', `audit printed a report (stderr: ${audit.stderr})`)
  const report = JSON.parse(audit.stdout) as AuditReport
  for (const gw of report.gateways) {
    console.log(
      `${label} audit: backend=${report.backend} records=${report.records} gateway=${gw.gatewayId} ` +
        `seq=${gw.lowestSeq}..${gw.highestSeq} distinct=${gw.distinct} duplicates=${gw.duplicates} ` +
        `gaps=${gw.gaps} unexplained=${gw.unexplainedMissing} reorders=${gw.reorders} exit=${audit.code}`,
    )
  }
  return { report, code: audit.code, stderr: audit.stderr }
}

/** Every gateway's gaps explained by its ledger and its devices in order; the audit exited 0. */
export function assertAuditClean(audit: CoreAudit): GatewayReport[] {
  for (const gw of audit.report.gateways) {
    assert.equal(
      gw.unexplainedMissing,
      0,
      `${gw.gatewayId}: unexplained gaps ${JSON.stringify(gw.unexplained)}`,
    )
    assert.equal(gw.reorders, 0, `${gw.gatewayId}: reorders ${gw.reorderExamples.join('; ')}`)
  }
  assert.equal(audit.code, 0, audit.stderr)
  return audit.report.gateways
}
