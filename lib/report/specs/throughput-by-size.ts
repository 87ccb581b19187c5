// Per-size throughput: allocators side by side at each block size, the system
// baseline in grey, each other bar labelled with its ratio to the baseline.
import type { VegaLiteSpec } from "../plot";
import { seriesOrder } from "./aggregate";
import { ThroughputRow } from "./rows";
import { legendPick, pickedOpacity } from "./interaction";
import { OFFSET_STEP, SCHEMA, seriesColors } from "./style";
import { sizeOrder, throughputPoints } from "./throughput-points";

type Layers = Extract<VegaLiteSpec, { layer: unknown }>["layer"];

export function throughputBySize(rows: readonly ThroughputRow[], title = "Throughput by block size"): VegaLiteSpec {
  const points = throughputPoints(rows);
  const series = seriesOrder(points.map((p) => p.series));
  const x = { field: "size", type: "ordinal", sort: sizeOrder(points), title: "block size (bytes)", axis: { labelAngle: 0 } } as const;
  const xOffset = { field: "series", sort: series } as const;
  const layer: Layers = [
    {
      params: [legendPick("series")],
      mark: { type: "bar" },
      encoding: {
        x, xOffset,
        y: { field: "mops", type: "quantitative", title: "M ops/s (median)" },
        color: { field: "series", type: "nominal", scale: seriesColors(series), title: "allocator" },
        opacity: pickedOpacity,
        tooltip: [
          { field: "series", title: "allocator" }, { field: "size", title: "block size (bytes)" },
          { field: "mops", format: ".2f", title: "M ops/s (median)" }, { field: "minMops", format: ".2f", title: "slowest run, M ops/s" },
          { field: "maxMops", format: ".2f", title: "fastest run, M ops/s" }, { field: "reps", title: "runs" },
          { field: "ratioLabel", title: "vs system" }, { field: "intervalLabel", title: "vs system, interval" },
        ],
      },
    },
    // The spread of the repetitions, where there are several.
    {
      transform: [{ filter: "datum.reps > 1" }],
      mark: { type: "rule", color: "#333" },
      encoding: { x, xOffset, y: { field: "minMops", type: "quantitative" }, y2: { field: "maxMops" } },
    },
    {
      transform: [{ filter: "datum.ratioLabel != null" }],
      mark: { type: "text", baseline: "bottom", dy: -3, fontSize: 9 },
      encoding: { x, xOffset, y: { field: "maxMops", type: "quantitative" }, text: { field: "ratioLabel" } },
    },
  ];
  const benches = [...new Set(points.map((p) => p.bench))];
  if (benches.length > 1) {
    return {
      $schema: SCHEMA, title, data: { values: points },
      facet: { row: { field: "bench", type: "nominal", title: null } },
      spec: { width: OFFSET_STEP, layer },
      resolve: { scale: { y: "independent" } },
    } satisfies VegaLiteSpec;
  }
  return { $schema: SCHEMA, title: `${title} (${benches[0] ?? "no data"})`, data: { values: points }, width: OFFSET_STEP, layer } satisfies VegaLiteSpec;
}
