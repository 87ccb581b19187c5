// Tail latency: each op kind's percentiles (p50 .. p99.99, max) per allocator, on a log axis.
import { PERCENTILES } from "../../bench/measures/latency";
import type { VegaLiteSpec } from "../plot";
import { seriesOrder } from "./aggregate";
import type { LatencyRow } from "./rows";
import { legendPick, pickedOpacity, zoomPan } from "./interaction";
import { SCHEMA, seriesColors } from "./style";

const ORDER = [...PERCENTILES.map(([name]) => name), "max"];

export function latencyPercentiles(rows: readonly LatencyRow[], title = "Latency per op (ns)"): VegaLiteSpec {
  const series = seriesOrder(rows.map((r) => r.allocator));
  const ops = [...new Set(rows.map((r) => r.op))];
  return {
    $schema: SCHEMA,
    title,
    // A log axis cannot show 0 ns (a read below the clock's resolution): such points sit at 1 ns.
    data: { values: rows.map((r) => ({ ...r, ns: Math.max(r.ns, 1) })) },
    facet: { column: { field: "op", type: "nominal", sort: ops, title: null } },
    spec: {
      width: 180,
      height: 220,
      // The percentiles are categories: zoom on the log ns axis only.
      params: [zoomPan(["y"]), legendPick("allocator")],
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "percentile", type: "ordinal", sort: ORDER, title: "percentile", axis: { labelAngle: -45 } },
        y: { field: "ns", type: "quantitative", scale: { type: "log" }, title: "ns" },
        color: { field: "allocator", type: "nominal", scale: seriesColors(series), title: "allocator" },
        opacity: pickedOpacity,
        tooltip: [{ field: "allocator" }, { field: "op" }, { field: "percentile" }, { field: "ns", format: ",", title: "ns" }],
      },
    },
  } satisfies VegaLiteSpec;
}
