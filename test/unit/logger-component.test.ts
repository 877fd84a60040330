import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { componentLogger, createRootLogger } from '../../src/observability/logger.js'

/** The raw JSON lines (JSON.parse would hide a key printed twice). */
function rawLines(): { lines: string[]; destination: Writable } {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      done()
    },
  })
  return { lines, destination }
}

const componentsIn = (line: string): string[] =>
  [...line.matchAll(/"component":"([^"]*)"/g)].map((m) => m[1] as string)

describe('logger - each line names its component once', () => {
  it('logger - asking again for the same component returns the same logger', async () => {
    const { lines, destination } = rawLines()
    const root = createRootLogger('info', destination)
    const spool = componentLogger(componentLogger(root, 'spool'), 'spool')
    spool.info('open')
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(componentsIn(lines[0] as string), ['spool'])
  })

  it("logger - a backend's downlink subscriber is named downlink.<core>, not backend and downlink both", async () => {
    const { lines, destination } = rawLines()
    const root = createRootLogger('info', destination)
    const backend = componentLogger(root, 'backend.redis')
    const subscriber = componentLogger(backend.child({ url: 'redis://x' }), 'downlink.redis')
    componentLogger(backend, 'downlink.redis').info('subscribed')
    subscriber.info('subscribed again')
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(componentsIn(lines[0] as string), ['downlink.redis'])
    // A logger made another way still gets its component, even if pino then prints the key twice.
    assert.ok(componentsIn(lines[1] as string).includes('downlink.redis'))
  })
})
