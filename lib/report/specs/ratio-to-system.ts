// Each allocator's median throughput over the system baseline's, per block size;
// the dashed line at 1.0x is the baseline.
import type { VegaLiteSpec } from "../plot";
import { seriesOrder } from "./aggregate";
import { ThroughputRow } from "./rows";
import { groupedBars } from "./grouped-bars";
import { sizeOrder, throughputPoints } from "./throughput-points";

export function ratioToSystem(rows: readonly ThroughputRow[], title = "Throughput relative to system malloc"): VegaLiteSpec {
  const points = throughputPoints(rows).filter((p) => p.ratio !== null);
  const series = seriesOrder(points.map((p) => p.series));
  const benches = [...new Set(points.map((p) => p.bench))];
  return groupedBars({
    title: benches.length === 1 ? `${title} (${benches[0]})` : title,
    points,
    group: { field: "size", type: "ordinal", sort: sizeOrder(points), title: "block size (bytes)" },
    bars: { field: "series", sort: series, title: "allocator" },
    value: { field: "ratio", title: "× system (median)" },
    label: "ratioLabel",
    tooltip: [
      { field: "series", title: "allocator" }, { field: "bench" }, { field: "size", title: "block size (bytes)" },
      { field: "ratioLabel", title: "vs system (median)" }, { field: "intervalLabel", title: "vs system, interval" },
      { field: "mops", format: ".2f", title: "M ops/s (median)" }, { field: "reps", title: "runs" },
    ],
    unitLabel: "system = 1.00×",
  });
}
