/**
 * The status page: one static HTML file (static/status-page.html) and uPlot, the small chart library
 * it draws with, served from node_modules. Read once at start; nothing is built and nothing is fetched
 * from the internet, so the page works on a gateway with no route out.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { RouteHandler } from './http-listener.js'

function staticFile(name: string): Buffer {
  // src/http/ (run from source) and dist/src/http/ (built) sit at different depths below the package.
  for (const up of ['../../', '../../../']) {
    try {
      return readFileSync(new URL(`${up}static/${name}`, import.meta.url))
    } catch {
      // not at this depth
    }
  }
  throw new Error(`static/${name} is missing from the installation`)
}

function serve(body: Buffer, contentType: string, cache: string): RouteHandler {
  return (_req, res) => {
    res.writeHead(200, {
      'Content-Type': contentType,
      'Content-Length': body.length,
      'Cache-Control': cache,
      // The page loads only its own script and style, and talks only to this gateway.
      'Content-Security-Policy':
        "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
      'X-Content-Type-Options': 'nosniff',
    })
    res.end(body)
  }
}

export function statusPageRoutes(): Record<string, RouteHandler> {
  const require = createRequire(import.meta.url)
  const uplotJs = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'))
  const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'))
  return {
    '/': serve(staticFile('status-page.html'), 'text/html; charset=utf-8', 'no-store'),
    '/assets/uPlot.iife.min.js': serve(uplotJs, 'text/javascript; charset=utf-8', 'max-age=3600'),
    '/assets/uPlot.min.css': serve(uplotCss, 'text/css; charset=utf-8', 'max-age=3600'),
  }
}
