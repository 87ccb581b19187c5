// How the frees split over their routes (header_fast, superslab lookup, remote,
// ...) under each preset: one 100% bar per preset.
import type { VegaLiteSpec } from "../plot";
import { groupBy } from "./aggregate";
import { RouteShareRow } from "./rows";
import { legendPick, pickedOpacity } from "./interaction";
import { SCHEMA } from "./style";

interface Segment { preset: string; route: string; count: number; share: number; start: number; end: number; label: string }

export function routeShares(rows: readonly RouteShareRow[], title = "Free-route shares"): VegaLiteSpec {
  const segments: Segment[] = [];
  for (const [preset, group] of groupBy(rows, (r) => r.preset)) {
    const counts = [...groupBy(group, (r) => r.route)].map(([route, g]) => ({ route, count: g.reduce((s, r) => s + r.count, 0) }));
    const total = counts.reduce((s, c) => s + c.count, 0);
    let start = 0;
    for (const { route, count } of counts) {
      const share = total > 0 ? count / total : 0;
      // Segments under 6% are too narrow to hold their label.
      segments.push({ preset, route, count, share, start, end: start + share, label: share >= 0.06 ? `${(share * 100).toFixed(0)}%` : "" });
      start += share;
    }
  }
  const y = { field: "preset", type: "nominal", title: "preset", sort: [...new Set(rows.map((r) => r.preset))] } as const;
  return {
    $schema: SCHEMA,
    title,
    data: { values: segments },
    width: 420,
    height: { step: 28 },
    layer: [
      {
        params: [legendPick("route")],
        mark: { type: "bar" },
        encoding: {
          y,
          x: { field: "start", type: "quantitative", scale: { domain: [0, 1] }, axis: { format: "%" }, title: "share of frees" },
          x2: { field: "end" },
          color: { field: "route", type: "nominal", title: "route" },
          opacity: pickedOpacity,
          tooltip: [{ field: "preset" }, { field: "route" }, { field: "count", format: "," }, { field: "share", format: ".1%" }],
        },
      },
      {
        mark: { type: "text", color: "white", fontSize: 10 },
        encoding: { y, x: { field: "mid", type: "quantitative" }, text: { field: "label" } },
        transform: [{ calculate: "(datum.start + datum.end) / 2", as: "mid" }],
      },
    ],
  } satisfies VegaLiteSpec;
}
