import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it, mock } from 'node:test'
import { RateLimitedLog } from '../../src/observability/rate-limited-log.js'
import { capturingLogger } from './spool-contract.js'

// The clock is node:test's mock: time moves only when the test ticks it, so nothing here depends on
// how fast the machine is.
describe('rate-limited log', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 }))
  afterEach(() => mock.timers.reset())

  it('rate-limited log - the first event is logged at once, a flood is one summary line at the end of the interval', () => {
    const { logger, lines } = capturingLogger()
    const log = new RateLimitedLog(logger, 10_000)
    log.warn({ clientId: 'a' }, 'no route')
    assert.equal(lines.length, 1)
    assert.equal(lines[0]!.count, 1)
    for (let i = 0; i < 99; i++) log.warn({ clientId: `c${i}` }, 'no route')
    assert.equal(lines.length, 1, 'folded, not one line per event')
    mock.timers.tick(9_999)
    assert.equal(lines.length, 1)
    mock.timers.tick(1)
    assert.equal(lines.length, 2, 'the summary is written when the interval ends, without another event')
    assert.equal(lines[1]!.count, 99)
    assert.equal(lines[1]!.clientId, 'c98', 'the summary repeats the last event it folds')
    assert.equal(lines[1]!.msg, 'no route')
  })

  it('rate-limited log - after a quiet interval the next event is logged at once again', () => {
    const { logger, lines } = capturingLogger()
    const log = new RateLimitedLog(logger, 10_000)
    log.warn({}, 'x')
    mock.timers.tick(10_000)
    log.warn({}, 'x')
    assert.equal(lines.length, 2)
    assert.deepEqual(
      lines.map((l) => l.count),
      [1, 1],
    )
  })

  it('rate-limited log - events carry a weight, the count field can be named, the level is kept, flush writes the rest', () => {
    const { logger, lines } = capturingLogger()
    const log = new RateLimitedLog(logger, 60_000, { countField: 'dropped' })
    log.error({ reason: 'disk full' }, 'dropped', 50)
    log.error({ reason: 'disk full' }, 'dropped', 7)
    log.error({ reason: 'disk full' }, 'dropped', 3)
    log.flush()
    assert.deepEqual(
      lines.map((l) => [l.level, l.dropped]),
      [
        [50, 50],
        [50, 10],
      ],
    )
    log.flush()
    assert.equal(lines.length, 2, 'nothing folded, nothing written')
  })
})
