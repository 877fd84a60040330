/**
 * `edgebridge status`: the gateway's state for a person on its shell, read from the running daemon's
 * HTTP listener (/api/status), the same summary the status page and systemd's STATUS= show.
 *
 *   edgebridge status [--json] [--url http://host:port] [--config <file>] [--<section>.<key>=<value>]
 *
 * The address and the bearer token come from the gateway's own configuration (http.host, http.port,
 * http.tokenFile), so on the gateway it needs no argument. Exit codes: 0 ready, 1 degraded or not
 * ready, 69 (EX_UNAVAILABLE) no answer, 78 a bad configuration, 64 a bad command line.
 */
import { EX_CONFIG, loadConfig } from '../config/index.js'
import { EX_UNAVAILABLE, EX_USAGE } from '../config/exit-code.js'
import { readSecretFile } from '../config/secret-files.js'
import { ConfigError, errorMessage } from '../errors.js'
import { summaryLine, type GatewaySummary } from '../observability/gateway-status.js'

/** How long to wait for the daemon's answer (5 s). */
const REQUEST_TIMEOUT_MS = 5_000

export async function runStatusCommand(args: string[]): Promise<number> {
  let json = false
  let url: string | undefined
  const rest: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === '--json') json = true
    else if (a === '--url') url = args[++i]
    else if (a.startsWith('--url=')) url = a.slice('--url='.length)
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'Usage: edgebridge status [--json] [--url http://host:port] [--config <file>]\n' +
          "Prints the running gateway's summary from its HTTP listener (http.host, http.port).\n",
      )
      return 0
    } else rest.push(a)
  }
  if (url === '') {
    process.stderr.write('edgebridge status: --url needs a value\n')
    return EX_USAGE
  }
  let token: string | undefined
  try {
    const config = loadConfig({ argv: rest })
    if (!config.http.enabled && url === undefined) {
      process.stderr.write('edgebridge status: http.enabled is false: the gateway serves no status\n')
      return EX_UNAVAILABLE
    }
    const host =
      config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host === '::' ? '::1' : config.http.host
    const scheme = config.http.tls.certFile === '' ? 'http' : 'https'
    url ??= `${scheme}://${host.includes(':') ? `[${host}]` : host}:${config.http.port}`
    if (config.http.tokenFile !== '') token = readSecretFile(config.http.tokenFile, 'http.tokenFile')
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`edgebridge: invalid configuration: ${err.message}\n`)
      return EX_CONFIG
    }
    throw err
  }

  let summary: GatewaySummary
  try {
    const res = await fetch(`${url.replace(/\/$/, '')}/api/status`, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
    if (!res.ok) {
      process.stderr.write(`edgebridge status: ${url} answered ${res.status}: ${(await res.text()).trim()}\n`)
      return EX_UNAVAILABLE
    }
    summary = (await res.json()) as GatewaySummary
  } catch (err) {
    process.stderr.write(
      `edgebridge status: no answer from ${url} (is the gateway running?): ${errorMessage(err)}\n`,
    )
    return EX_UNAVAILABLE
  }
  process.stdout.write(json ? JSON.stringify(summary, null, 2) + '\n' : render(summary))
  return summary.readiness.status === 'ready' ? 0 : 1
}

function render(s: GatewaySummary): string {
  const core = s.readiness.components.core
  const fill = s.spool.capacityBytes > 0 ? (100 * s.spool.depthBytes) / s.spool.capacityBytes : 0
  const dropped = Object.entries(s.totals.dropped)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ')
  const lines = [
    `${s.gatewayId}: ${summaryLine(s)}`,
    `  version ${s.version}, up ${s.uptimeSeconds} s, readiness ${s.readiness.status}`,
    `  core     ${core.backend} ${core.status}, forwarder ${core.forwarder}`,
    `  spool    ${s.spool.depthRecords} records, ${s.spool.depthBytes} of ${s.spool.capacityBytes} bytes (${fill.toFixed(1)} %)` +
      (s.spool.depthRecords > 0 ? `, oldest ${Math.round(s.spool.oldestAgeSeconds)} s` : ''),
    `  totals   received ${s.totals.received}, forwarded ${s.totals.forwarded}, dead-lettered ${s.totals.deadLettered}, refused ${s.totals.refused}`,
    `  dropped  ${dropped}`,
    `  devices  ${s.devices.length}`,
    ...s.devices.map(
      (d) =>
        `    ${d.clientId}  ${d.listener}  ${d.username ?? '-'}  since ${new Date(d.since).toISOString()}  ${d.messages} messages`,
    ),
  ]
  return lines.join('\n') + '\n'
}
