// Each allocator's median throughput over the system baseline's, per block size;
// the dashed line at 1.0x is the baseline.
import type { VegaLiteSpec } from "../plot";
import { seriesOrder } from "./aggregate";
import { ThroughputRow } from "./rows";
import { OFFSET_STEP, SCHEMA, seriesColors } from "./style";
import { sizeOrder, throughputPoints } from "./throughput-points";

export function ratioToSystem(rows: readonly ThroughputRow[], title = "Throughput relative to system malloc"): VegaLiteSpec {
  const points = throughputPoints(rows).filter((p) => p.ratio !== null);
  const series = seriesOrder(points.map((p) => p.series));
  const benches = [...new Set(points.map((p) => p.bench))];
  const x = { field: "size", type: "ordinal", sort: sizeOrder(points), title: "block size (bytes)", axis: { labelAngle: 0 } } as const;
  const xOffset = { field: "series", sort: series } as const;
  return {
    $schema: SCHEMA,
    title: benches.length === 1 ? `${title} (${benches[0]})` : title,
    width: OFFSET_STEP,
    layer: [
      {
        data: { values: points },
        mark: { type: "bar" },
        encoding: {
          x, xOffset,
          y: { field: "ratio", type: "quantitative", title: "× system (median)" },
          color: { field: "series", type: "nominal", scale: seriesColors(series), title: "allocator" },
          tooltip: [{ field: "series", title: "allocator" }, { field: "bench" }, { field: "size" }, { field: "ratioLabel", title: "vs system" }],
        },
      },
      {
        data: { values: points },
        mark: { type: "text", baseline: "bottom", dy: -3, fontSize: 9 },
        encoding: { x, xOffset, y: { field: "ratio", type: "quantitative" }, text: { field: "ratioLabel" } },
      },
      {
        data: { values: [{ baseline: 1, label: "system = 1.00×" }] },
        layer: [
          { mark: { type: "rule", strokeDash: [4, 3], color: "#666" }, encoding: { y: { field: "baseline", type: "quantitative" } } },
          {
            mark: { type: "text", align: "left", baseline: "bottom", x: 2, dy: -2, fontSize: 9, color: "#666" },
            encoding: { y: { field: "baseline", type: "quantitative" }, text: { field: "label" } },
          },
        ],
      },
    ],
  } satisfies VegaLiteSpec;
}
