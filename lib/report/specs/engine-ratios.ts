// One allocator's median throughput over the system baseline's, per workload, side by side for each
// JS engine: the ratio is taken within an engine (the baseline ran in the same cells), so engines
// compare on what they change, the JS allocator's loop.
import type { VegaLiteSpec } from "../plot";
import { groupBy } from "./aggregate";
import { ThroughputRow } from "./rows";
import { OFFSET_STEP, SCHEMA, seriesColors } from "./style";
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
  const x = { field: "workload", type: "nominal", sort: workloads, title: "block size (fixed), or random-mixed 16..1024", axis: { labelAngle: 0 } } as const;
  const xOffset = { field: "engine", sort: engines } as const;
  return {
    $schema: SCHEMA,
    title,
    width: OFFSET_STEP,
    layer: [
      {
        data: { values: points },
        mark: { type: "bar" },
        encoding: {
          x, xOffset,
          y: { field: "ratio", type: "quantitative", title: "× system (median)" },
          color: { field: "engine", type: "nominal", scale: seriesColors(engines), sort: engines, title: "engine" },
          tooltip: [{ field: "engine" }, { field: "workload" }, { field: "mops", title: "M ops/s", format: ".1f" }, { field: "ratioLabel", title: "vs system" }],
        },
      },
      {
        data: { values: points },
        mark: { type: "text", baseline: "bottom", dy: -3, fontSize: 9 },
        encoding: { x, xOffset, y: { field: "ratio", type: "quantitative" }, text: { field: "ratioLabel" } },
      },
      {
        data: { values: [{ baseline: 1 }] },
        mark: { type: "rule", strokeDash: [4, 3], color: "#666" },
        encoding: { y: { field: "baseline", type: "quantitative" } },
      },
    ],
  } satisfies VegaLiteSpec;
}
