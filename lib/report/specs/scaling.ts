// Thread scaling: median ops/s against the thread count, one line per allocator.
import type { VegaLiteSpec } from "../plot";
import { groupBy, median, seriesNamer, seriesOrder } from "./aggregate";
import { ScalingRow } from "./rows";
import { legendPick, pickedOpacity, zoomPan } from "./interaction";
import { SCHEMA, seriesColors } from "./style";

export function scaling(rows: readonly ScalingRow[], title = "Thread scaling"): VegaLiteSpec {
  const name = seriesNamer(rows);
  const points = [...groupBy(rows, (r) => `${name(r)}\0${r.threads}`).values()].map((g) => ({
    series: name(g[0]), threads: g[0].threads, mops: median(g.map((r) => r.opsPerSec / 1e6)), reps: g.length,
  }));
  const series = seriesOrder(points.map((p) => p.series));
  return {
    $schema: SCHEMA,
    title,
    data: { values: points },
    width: 360,
    height: 240,
    params: [zoomPan(), legendPick("series")],
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "threads", type: "quantitative", axis: { values: [...new Set(points.map((p) => p.threads))], format: "d" }, title: "threads" },
      y: { field: "mops", type: "quantitative", title: "M ops/s (median)" },
      color: { field: "series", type: "nominal", scale: seriesColors(series), title: "allocator" },
      opacity: pickedOpacity,
      tooltip: [{ field: "series", title: "allocator" }, { field: "threads" }, { field: "mops", format: ".2f", title: "M ops/s (median)" }, { field: "reps", title: "runs" }],
    },
  } satisfies VegaLiteSpec;
}
