/**
 * Latency histogram: HdrHistogram (hdr-histogram-js) at microsecond resolution, from 1 µs to one
 * hour with 3 significant digits, so a single stall of seconds is recorded as precisely as the
 * median. Values above the range are clamped to the top and counted, never dropped.
 */
import * as hdr from 'hdr-histogram-js'

/** The percentiles every report shows, in the style of "Benchmarking Message Queue Latency". */
export const REPORT_PERCENTILES = [50, 90, 99, 99.9, 99.99, 99.9999] as const

const HIGHEST_US = 3_600_000_000 // one hour in µs

export interface LatencySummary {
  count: number
  /** Microseconds at each of REPORT_PERCENTILES, keyed "p50", "p90", ... "p99.9999". */
  percentilesUs: Record<string, number>
  maxUs: number
  meanUs: number
  minUs: number
}

export class LatencyHistogram {
  private readonly histogram = hdr.build({
    bitBucketSize: 'packed',
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  })
  clamped = 0

  /** Records one latency given in milliseconds (fractional), stored as whole microseconds. */
  recordMs(latencyMs: number): void {
    let us = Math.max(1, Math.round(latencyMs * 1000))
    if (us > HIGHEST_US) {
      us = HIGHEST_US
      this.clamped++
    }
    this.histogram.recordValue(us)
  }

  get count(): number {
    return this.histogram.totalCount
  }

  summary(): LatencySummary {
    const percentilesUs: Record<string, number> = {}
    for (const p of REPORT_PERCENTILES) percentilesUs[percentileKey(p)] = this.valueAt(p)
    return {
      count: this.histogram.totalCount,
      percentilesUs,
      maxUs: this.histogram.totalCount === 0 ? 0 : this.histogram.maxValue,
      meanUs: this.histogram.totalCount === 0 ? 0 : Math.round(this.histogram.mean),
      minUs: this.histogram.totalCount === 0 ? 0 : this.histogram.minNonZeroValue,
    }
  }

  valueAt(percentile: number): number {
    return this.histogram.totalCount === 0 ? 0 : this.histogram.getValueAtPercentile(percentile)
  }

  /**
   * The percentile distribution in HdrHistogram's .hgrm text format, values in milliseconds, so the
   * file opens in the HdrHistogram plotter and in tools that read wrk2 / jHiccup output.
   */
  toHgrm(): string {
    return this.histogram.outputPercentileDistribution(5, 1000)
  }

  /** Points of the percentile distribution (percentile 0..100, value in ms) for plotting. */
  distribution(): { percentile: number; valueMs: number }[] {
    if (this.histogram.totalCount === 0) return []
    const points: { percentile: number; valueMs: number }[] = []
    // Ticks that halve the distance to 100% at each step, five per half: the .hgrm spacing.
    for (let k = 0; ; k++) {
      const p = 100 - 100 / Math.pow(2, k / 5)
      const value = this.histogram.getValueAtPercentile(p)
      points.push({ percentile: p, valueMs: value / 1000 })
      // Stop once the percentile is finer than one sample can resolve.
      if ((100 - p) / 100 < 1 / this.histogram.totalCount / 2 || k > 200) break
    }
    points.push({ percentile: 100, valueMs: this.histogram.maxValue / 1000 })
    return points
  }

  destroy(): void {
    this.histogram.destroy()
  }
}

export function percentileKey(p: number): string {
  return `p${p}`
}
