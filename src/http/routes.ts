/**
 * The routes of the HTTP listener, each only reading the gateway:
 * - `/healthz`: live. Answered by the event loop itself, so it fails exactly when the process is
 *   wedged; it never depends on the core.
 * - `/readyz`: ready (200, `ready` or `degraded`) or not (503), with a JSON body per component
 *   (observability/gateway-status.ts). A core outage is `degraded`, not 503: an orchestrator must not
 *   restart a gateway because its uplink is down.
 * - `/metrics`: Prometheus text (observability/metrics.ts).
 * - `/api/status`: the summary the status page and `edgebridge status` show.
 */
import type { GatewayMetrics } from '../observability/metrics.js'
import { gatewaySummary, readiness, type StatusSources } from '../observability/gateway-status.js'
import { json, type RouteHandler } from './http-listener.js'

export function coreRoutes(metrics: GatewayMetrics, sources: StatusSources): Record<string, RouteHandler> {
  return {
    '/healthz': (_req, res) => json(res, 200, { status: 'ok' }),
    '/readyz': (_req, res) => {
      const report = readiness(sources)
      json(res, report.status === 'not_ready' ? 503 : 200, report)
    },
    '/metrics': async (_req, res) => {
      const body = await metrics.scrape()
      res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' })
      res.end(body)
    },
    '/api/status': (_req, res) => json(res, 200, gatewaySummary(sources)),
  }
}
