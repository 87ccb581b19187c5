// One allocator's median throughput over the system baseline's, per workload, side by side for each
// JS engine: the ratio is taken within an engine (the baseline ran in the same cells), so engines
// compare on what they change, the JS allocator's loop.
import type { VegaLiteSpec } from "../plot";
import { groupBy } from "./aggregate";
import { ThroughputRow } from "./rows";
import { groupedBars } from "./grouped-bars";
import { sizeOrder, throughputPoints } from "./throughput-points";

export function engineRatios(rows: readonly ThroughputRow[], allocator = "hakmem:current", title = `${allocator} relative to glibc, per JS engine`): VegaLiteSpec {
  const byEngine = groupBy(rows, (r) => r.engine ?? "node");
  const engines = [...byEngine.keys()].sort((a, b) => Number(b === "node") - Number(a === "node") || a.localeCompare(b, "en", { numeric: true }));
  const points = engines.flatMap((engine) =>
    throughputPoints(byEngine.get(engine)!)
      .filter((p) => p.series === allocator && p.ratio !== null)
      .map((p) => ({ ...p, engine, workload: p.size === "mixed" ? "mixed 16..1024" : `${p.size} B` })),
  );
  const workloads = sizeOrder(points).map((size) => points.find((p) => p.size === size)!.workload);
  return groupedBars({
    title,
    points,
    group: { field: "workload", sort: workloads, title: "block size (fixed), or random-mixed 16..1024" },
    bars: { field: "engine", sort: engines, title: "engine" },
    value: { field: "ratio", title: "× system (median)" },
    label: "ratioLabel",
    tooltip: [
      { field: "series", title: "allocator" }, { field: "engine" }, { field: "workload" }, { field: "mops", title: "M ops/s (median)", format: ".1f" },
      { field: "ratioLabel", title: "vs system (median)" }, { field: "intervalLabel", title: "vs system, interval" }, { field: "reps", title: "runs" },
    ],
  });
}
