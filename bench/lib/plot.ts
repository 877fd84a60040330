/**
 * The latency percentile distribution plot, in HdrHistogram's style: the x axis is
 * log10(1 / (1 - p)), so 0%, 90%, 99%, 99.9%, ... are evenly spaced and the tail gets the room it
 * deserves. Drawn with vega-lite, rendered to SVG by vega's headless renderer (no canvas needed).
 */
import * as vega from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'

export interface Series {
  name: string
  points: { percentile: number; valueMs: number }[]
}

const NINES = 6 // up to 99.9999%

export async function percentilePlotSvg(title: string, series: Series[]): Promise<string> {
  const values = series.flatMap((s) =>
    s.points
      .filter((p) => p.percentile < 100)
      .map((p) => ({
        series: s.name,
        x: Math.min(NINES, Math.log10(100 / (100 - p.percentile))),
        percentile: p.percentile,
        // log scale: clamp to 1 µs so a zero never breaks the axis
        latencyMs: Math.max(0.001, p.valueMs),
      })),
  )
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 640,
    height: 360,
    background: 'white',
    data: { values },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.8 },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: 'percentile',
        scale: { domain: [0, NINES] },
        axis: {
          values: Array.from({ length: NINES + 1 }, (_, i) => i),
          // 0 -> 0%, 1 -> 90%, 2 -> 99%, 3 -> 99.9% ...
          labelExpr:
            "datum.value == 0 ? '0%' : format(100 - 100 / pow(10, datum.value), '.' + max(0, datum.value - 2) + 'f') + '%'",
        },
      },
      y: {
        field: 'latencyMs',
        type: 'quantitative',
        title: 'latency (ms, log scale)',
        scale: { type: 'log' },
      },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'top-left' } },
    },
  }
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
