/**
 * The verdict the crash tests rest on must itself catch what it is there to catch: a lost acknowledged
 * message, a device's messages out of order, and duplicates counted but not held against order.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { judge, summary } from './verdict.js'

const acked = (entries: Array<[number, number[]]>) => new Map(entries)

test('crash verdict - every acknowledged message arrived in order: nothing lost, no violations', () => {
  const v = judge(acked([[0, [0, 1, 2]]]), [
    { d: 0, s: 0 },
    { d: 0, s: 1 },
    { d: 0, s: 2 },
  ])
  assert.equal(v.lost, 0)
  assert.equal(v.duplicates, 0)
  assert.deepEqual(v.orderViolations, [])
  assert.equal(
    summary('crash', v, { kills: 3 }),
    'crash: kills=3 acknowledged=3 arrived=3 lost=0 duplicates=0 orderViolations=0',
  )
})

test('crash verdict - an acknowledged message missing at the core is lost', () => {
  const v = judge(
    acked([
      [0, [0, 1, 2]],
      [1, [0]],
    ]),
    [
      { d: 0, s: 0 },
      { d: 0, s: 2 },
      { d: 1, s: 0 },
    ],
  )
  assert.equal(v.lost, 1)
  assert.deepEqual(v.lostExamples, ['device 0 seq 1'])
})

test('crash verdict - an unacknowledged message may be missing (the device was never told it is safe)', () => {
  const v = judge(acked([[0, [0, 2]]]), [
    { d: 0, s: 0 },
    { d: 0, s: 2 },
  ])
  assert.equal(v.lost, 0)
})

test('crash verdict - re-sent messages count as duplicates, not as disorder', () => {
  // A batch stored but not confirmed before a crash, sent again after the restart: 1 2 | 1 2 3.
  const v = judge(
    acked([[0, [1, 2, 3]]]),
    [1, 2, 1, 2, 3].map((s) => ({ d: 0, s })),
  )
  assert.equal(v.duplicates, 2)
  assert.deepEqual(v.orderViolations, [])
  assert.equal(v.arrived, 5)
})

test('crash verdict - a first occurrence after a later seq of the same device breaks order', () => {
  const v = judge(
    acked([
      [0, [1, 2, 3]],
      [1, [5, 6]],
    ]),
    [
      { d: 0, s: 1 },
      { d: 1, s: 6 },
      { d: 0, s: 3 },
      { d: 0, s: 2 },
      { d: 1, s: 5 },
    ],
  )
  assert.equal(v.lost, 0)
  assert.deepEqual(v.orderViolations, [
    'device 0: seq 2 arrived first after seq 3',
    'device 1: seq 5 arrived first after seq 6',
  ])
})

test('crash verdict - anything that is not a fleet message is counted as foreign', () => {
  const v = judge(acked([]), [{ d: NaN, s: NaN }])
  assert.equal(v.foreign, 1)
})
