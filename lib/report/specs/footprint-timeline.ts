// Memory over time: live bytes against the allocator's footprint, every K ops of one pass, per allocator.
import type { VegaLiteSpec } from "../plot";
import { seriesOrder } from "./aggregate";
import type { TimelineRow } from "./rows";
import { legendPick, pickedOpacity, zoomPan } from "./interaction";
import { SCHEMA, seriesColors } from "./style";

export function footprintTimeline(rows: readonly TimelineRow[], title = "Live bytes and footprint over the run"): VegaLiteSpec {
  // One row per sample with both measures (the chart's CSV reads like the timeline), folded into two lines here.
  const samples = rows.map((r) => ({ allocator: r.allocator, op: r.op, footprint: r.footprintBytes === null ? null : r.footprintBytes / 2 ** 20, live: r.liveBytes / 2 ** 20 }));
  const series = seriesOrder(samples.map((p) => p.allocator));
  return {
    $schema: SCHEMA,
    title,
    data: { values: samples },
    transform: [{ fold: ["footprint", "live"], as: ["measure", "mib"] }, { filter: "datum.mib != null" }],
    width: 420,
    height: 240,
    params: [zoomPan(), legendPick("allocator")],
    mark: { type: "line" },
    encoding: {
      x: { field: "op", type: "quantitative", title: "ops" },
      y: { field: "mib", type: "quantitative", title: "MiB" },
      color: { field: "allocator", type: "nominal", scale: seriesColors(series), title: "allocator" },
      strokeDash: { field: "measure", type: "nominal", sort: ["footprint", "live"], title: "measure" },
      opacity: pickedOpacity,
      tooltip: [{ field: "allocator" }, { field: "measure" }, { field: "op", format: "," }, { field: "mib", format: ".2f", title: "MiB" }],
    },
  } satisfies VegaLiteSpec;
}
