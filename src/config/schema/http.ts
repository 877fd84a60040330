/**
 * The operations HTTP listener (src/http/): /metrics, /healthz, /readyz, the status page.
 *
 * The default port, 18830, is outside Prometheus' list of default port allocations
 * (github.com/prometheus/prometheus/wiki/Default-port-allocations, 9100-9999 and a few others), so it
 * collides with no exporter an operator may already run on the gateway; it is easy to find next to
 * MQTT's 1883.
 *
 * The access rule is the MQTT listeners' rule: on loopback anyone on this machine may read; off
 * loopback a bearer token (`tokenFile`) or TLS client certificates (`tls.caFile`) must protect it, or
 * `allowAnonymous` must say on purpose that the network is trusted. The status page shows client ids,
 * user names and payloads: it is not something to publish on a plant network by accident.
 */
import { isLoopbackHost } from '../../ingress/listeners/connection-info.js'
import * as f from '../formats.js'
import { problemLine } from '../problem.js'
import type { EdgebridgeConfig } from '../types.js'
import { leaf, type Section } from './leaf.js'

/** 18830: next to MQTT's 1883, outside Prometheus' default port allocations. */
export const DEFAULT_HTTP_PORT = 18830

export const httpSection: Section = {
  enabled: leaf({
    doc: 'Serve /metrics (Prometheus), /healthz, /readyz and the status page over HTTP.',
    format: f.bool,
    default: true,
  }),
  host: leaf({
    doc: 'Address of the HTTP listener. Loopback by default; off loopback it needs `tokenFile`, `tls.caFile` or `allowAnonymous: true`.',
    format: f.host,
    default: '127.0.0.1',
    env: 'EDGEBRIDGE_HTTP_HOST',
  }),
  port: leaf({
    doc: "Port of the HTTP listener (18830: outside Prometheus' default port allocations).",
    format: f.port,
    default: DEFAULT_HTTP_PORT,
    env: 'EDGEBRIDGE_HTTP_PORT',
  }),
  tokenFile: leaf({
    doc: 'File holding a bearer token (one trailing newline is ignored); every request but /healthz and /readyz must send `Authorization: Bearer <token>`. Empty = none.',
    format: f.filePath,
    default: '',
  }),
  allowAnonymous: leaf({
    doc: 'Serve everything without a token or client certificate off loopback (a trusted network). On loopback no protection is required.',
    format: f.bool,
    default: false,
  }),
  tls: {
    certFile: leaf({
      doc: 'PEM certificate: serve HTTPS. Empty = plain HTTP.',
      format: f.filePath,
      default: '',
    }),
    keyFile: leaf({
      doc: 'PEM private key of `http.tls.certFile`.',
      format: f.filePath,
      default: '',
    }),
    caFile: leaf({
      doc: 'PEM CA bundle: require client certificates signed by it (except for /healthz and /readyz). Needs `http.tls.certFile`.',
      format: f.filePath,
      default: '',
    }),
  },
}

/** The access rule and the TLS keys that go together, one line each. */
export function httpProblems(c: EdgebridgeConfig): string[] {
  const h = c.http
  const out: string[] = []
  if ((h.tls.certFile === '') !== (h.tls.keyFile === '')) {
    out.push(problemLine('http.tls.keyFile', h.tls.keyFile, 'be set together with http.tls.certFile'))
  }
  if (h.tls.caFile !== '' && h.tls.certFile === '') {
    out.push(
      problemLine(
        'http.tls.caFile',
        h.tls.caFile,
        'be used with http.tls.certFile (client certificates need TLS)',
      ),
    )
  }
  if (
    h.enabled &&
    !isLoopbackHost(h.host) &&
    h.tokenFile === '' &&
    h.tls.caFile === '' &&
    !h.allowAnonymous
  ) {
    out.push(
      problemLine(
        'http.host',
        h.host,
        'be a loopback address unless http.tokenFile or http.tls.caFile protects the listener, or http.allowAnonymous is true',
      ),
    )
  }
  return out
}
