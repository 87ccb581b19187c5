// Replayed traces side by side: per trace, each allocator's median throughput over glibc's (end to end,
// or of the allocator alone), and each allocator's utilization (peak live bytes over its peak footprint).
import type { VegaLiteSpec } from "../plot";
import { groupBy, median, seriesOrder, SYSTEM } from "./aggregate";
import type { ReplayRow } from "./rows";
import { groupedBars } from "./grouped-bars";
import { ratioInterval } from "./ratio-interval";
import { ratioLabel } from "./style";

/** Traces in the order they first appear in the rows. */
function traceOrder(rows: readonly ReplayRow[]): string[] {
  return [...new Set(rows.map((r) => r.trace))];
}

/**
 * What a replay ratio measures: the throughput end to end (the replay loop's own time included), or
 * the allocator alone: ops per second of its time less its oracle's (WORKLOADS.md "replay"). Runs
 * without an oracle figure, or one within its noise (<= 0), have no allocator-only rate.
 */
export type ReplayMeasure = "end to end" | "allocator only";

function rateOf(r: ReplayRow, measure: ReplayMeasure): number | null {
  if (measure === "end to end") return r.opsPerSec;
  return r.allocatorNsPerOp !== null && r.allocatorNsPerOp > 0 ? 1e9 / r.allocatorNsPerOp : null;
}

/** Median throughput over glibc's median on the same trace, a bar per allocator (glibc is the 1.00x line). */
export function replayRatios(
  rows: readonly ReplayRow[],
  title = "Throughput relative to glibc, per trace (end to end)",
  measure: ReplayMeasure = "end to end",
): VegaLiteSpec {
  const measured = rows.filter((r) => rateOf(r, measure) !== null);
  const cells = [...groupBy(measured, (r) => JSON.stringify([r.trace, r.allocator])).values()].map((cell) => ({
    trace: cell[0].trace, series: cell[0].allocator, rates: cell.map((r) => rateOf(r, measure) as number), reps: cell.length,
  }));
  const base = new Map(cells.filter((c) => c.series === SYSTEM).map((c) => [c.trace, c.rates]));
  const points = cells
    .filter((c) => c.series !== SYSTEM && base.has(c.trace))
    .map(({ rates, ...c }) => {
      const ratio = median(rates) / median(base.get(c.trace)!);
      return { ...c, mops: median(rates) / 1e6, ratio, ratioLabel: ratioLabel(ratio), ...ratioInterval(base.get(c.trace)!, rates) };
    });
  const series = seriesOrder(points.map((p) => p.series));
  return groupedBars({
    title,
    points,
    group: { field: "trace", sort: traceOrder(rows), title: "trace" },
    bars: { field: "series", sort: series, title: "allocator" },
    value: { field: "ratio", title: "× glibc (median)" },
    label: "ratioLabel",
    tooltip: [
      { field: "series", title: "allocator" }, { field: "trace" },
      { field: "mops", format: ".1f", title: measure === "end to end" ? "M ops/s (median)" : "M ops/s of allocator time (median)" },
      { field: "ratioLabel", title: "vs glibc (median)" }, { field: "intervalLabel", title: "vs glibc, interval" }, { field: "reps", title: "runs" },
    ],
    unitLabel: "glibc = 1.00×",
  });
}

/** Peak live bytes over peak footprint (median over repetitions), a bar per allocator and trace; 1.0 would waste nothing. */
export function replayUtilization(rows: readonly ReplayRow[], title = "Utilization: peak live bytes / peak footprint"): VegaLiteSpec {
  const cells = groupBy(rows.filter((r) => r.utilization !== null), (r) => JSON.stringify([r.trace, r.allocator]));
  const points = [...cells.values()].map((cell) => {
    const utilization = median(cell.map((r) => r.utilization as number));
    const footprints = cell.map((r) => r.peakFootprintBytes).filter((b): b is number => b !== null);
    return {
      trace: cell[0].trace, series: cell[0].allocator, utilization, label: `${Math.round(100 * utilization)}%`,
      footprintMiB: footprints.length ? median(footprints) / 2 ** 20 : null, liveMiB: cell[0].peakLiveBytes / 2 ** 20, reps: cell.length,
    };
  });
  const series = seriesOrder(points.map((p) => p.series));
  return groupedBars({
    title,
    points,
    group: { field: "trace", sort: traceOrder(rows), title: "trace" },
    bars: { field: "series", sort: series, title: "allocator" },
    value: { field: "utilization", title: "peak live / peak footprint (median)", format: ".0%" },
    label: "label",
    tooltip: [
      { field: "series", title: "allocator" }, { field: "trace" }, { field: "label", title: "utilization" },
      { field: "liveMiB", format: ".2f", title: "peak live MiB" }, { field: "footprintMiB", format: ".2f", title: "peak footprint MiB" },
      { field: "reps", title: "runs" },
    ],
    unitLabel: "1.0 = no overhead",
  });
}
