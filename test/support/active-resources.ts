/**
 * What keeps node's event loop alive (sockets, servers, child processes, ref'd timers, pending file
 * system requests), counted by type: to show that something was closed for good, and not merely that
 * it says so.
 */

export type ResourceCounts = ReadonlyMap<string, number>

/** The active resources now, by type. */
export function activeResources(): ResourceCounts {
  const counts = new Map<string, number>()
  for (const t of process.getActiveResourcesInfo()) counts.set(t, (counts.get(t) ?? 0) + 1)
  return counts
}

/** Resource types open now beyond `baseline`, with how many more (`Timeout x1`); empty when none. */
export function openedSince(baseline: ResourceCounts): string[] {
  const out: string[] = []
  for (const [type, n] of activeResources()) {
    const extra = n - (baseline.get(type) ?? 0)
    if (extra > 0) out.push(`${type} x${extra}`)
  }
  return out
}
