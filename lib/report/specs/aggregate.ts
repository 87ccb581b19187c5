// Grouping repetitions into one value per series, and naming the series.

/** The baseline allocator every ratio is taken against. */
export const SYSTEM = "system";

export { median } from "../../bench/matrix/statistics";

export function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    groups.set(k, [...(groups.get(k) ?? []), row]);
  }
  return groups;
}

/**
 * Names the series of a row: the allocator, or "allocator (preset)" when that
 * allocator appears with several presets (A/B runs in one chart).
 */
export function seriesNamer(rows: readonly { allocator: string; preset?: string }[]): (row: { allocator: string; preset?: string }) => string {
  const presets = new Map<string, Set<string>>();
  for (const r of rows) presets.set(r.allocator, (presets.get(r.allocator) ?? new Set()).add(r.preset ?? ""));
  return (r) => ((presets.get(r.allocator)?.size ?? 0) > 1 ? `${r.allocator} (${r.preset ?? ""})` : r.allocator);
}

/** Series in display order: the system baseline first, then by name. */
export function seriesOrder(names: Iterable<string>): string[] {
  return [...new Set(names)].sort((a, b) => Number(b === SYSTEM) - Number(a === SYSTEM) || a.localeCompare(b));
}
