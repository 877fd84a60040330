/**
 * The bench clock: a monotonic millisecond clock with sub-millisecond precision. Both ends of a
 * latency measurement (the scheduler and the consumer) run in the bench process, so one monotonic
 * clock is enough and wall-clock steps (NTP) cannot distort a result.
 */
import { performance } from 'node:perf_hooks'

export const nowMs = (): number => performance.now()

export const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms))
