/** Markdown tables and number formatting for the reports. */

export function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]): string => `| ${cells.map(String).join(' | ')} |`
  return [line(headers), line(headers.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join(
    '\n',
  )
}

/** Microseconds as milliseconds with 3 significant-ish decimals: 1234 -> "1.23". */
export function ms(us: number): string {
  const v = us / 1000
  if (v >= 100) return v.toFixed(0)
  if (v >= 10) return v.toFixed(1)
  return v.toFixed(2)
}

/** A signed difference in ms. */
export function deltaMs(us: number): string {
  return (us >= 0 ? '+' : '') + ms(us)
}

export function rate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US')
}

export function ratio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a'
}

export function bytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(n >= 100 * 1024 * 1024 ? 0 : 1)} MB`
  if (n >= 1024) return `${Math.round(n / 1024)} KB`
  return `${n} B`
}
