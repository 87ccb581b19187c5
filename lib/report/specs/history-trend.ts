// A key figure over commits: a line per workload, each point's provenance on hover, the changes
// beyond the noise marked (triangle up: better, down: worse); and the same line as a small sparkline.
import type { HistoryPoint } from "../history/history";
import type { VegaLiteSpec } from "../plot";
import { legendPick, pickedOpacity, zoomPan } from "./interaction";
import { SCHEMA } from "./style";

const VERDICT_SHAPES = { domain: ["first", "within noise", "better", "worse"], range: ["circle", "circle", "triangle-up", "triangle-down"] };

// Padding keeps the first and last points whole: the zoomable layer clips its marks to the plot.
const x = { field: "date", type: "temporal", title: "commit date", scale: { padding: 12 } } as const;

export function historyTrend(points: readonly HistoryPoint[], title: string, unit: string): VegaLiteSpec {
  const values = points.map((p) => ({
    ...p,
    valueLabel: p.value.toFixed(3),
    changeLabel: p.change === null ? null : `${p.change.toFixed(3)}× [${p.changeInterval}], p = ${p.p! < 0.001 ? "<0.001" : p.p!.toFixed(3)}`,
    commitLabel: `${p.commit}${p.dirty ? " (dirty)" : ""}`,
  }));
  const y = { field: "value", type: "quantitative", title: unit, scale: { zero: false, padding: 12 } } as const;
  const color = { field: "line", type: "nominal", title: "workload · profile" } as const;
  return {
    $schema: SCHEMA,
    title,
    data: { values },
    width: 560,
    height: 260,
    layer: [
      { mark: { type: "line", strokeWidth: 1.5 }, encoding: { x, y, color, opacity: pickedOpacity } },
      {
        params: [legendPick("line"), zoomPan()],
        mark: { type: "point", filled: true },
        encoding: {
          x, y, color, opacity: pickedOpacity,
          shape: { field: "verdict", type: "nominal", scale: VERDICT_SHAPES, title: "vs the point before" },
          size: { condition: { test: "datum.verdict === 'better' || datum.verdict === 'worse'", value: 140 }, value: 40 },
          tooltip: [
            { field: "workload" }, { field: "valueLabel", title: unit }, { field: "runs", title: "runs" },
            { field: "verdict", title: "vs the point before" }, { field: "changeLabel", title: "change [95% interval], rank-sum p" },
            { field: "commitLabel", title: "commit" }, { field: "date", type: "temporal", format: "%Y-%m-%d %H:%M", title: "date" },
            { field: "dateSource", title: "date is" }, { field: "set", title: "result set" }, { field: "profile" },
            { field: "machine" }, { field: "measured", title: "measured at" },
          ],
        },
      },
    ],
  } as VegaLiteSpec;
}

/** The figure's trend for the report index: no axes, one thin line per workload, a tooltip per point. */
export function historySparkline(points: readonly HistoryPoint[], unit: string): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    data: { values: points.map((p) => ({ workload: p.line, date: p.date, value: p.value, commit: p.commit, verdict: p.verdict })) },
    width: 180,
    height: 36,
    config: { view: { stroke: null } },
    mark: { type: "line", point: { size: 12 }, strokeWidth: 1 },
    encoding: {
      x: { ...x, axis: null },
      y: { field: "value", type: "quantitative", axis: null, scale: { zero: false } },
      color: { field: "workload", type: "nominal", legend: null },
      tooltip: [{ field: "workload" }, { field: "value", format: ".3f", title: unit }, { field: "commit" }, { field: "verdict", title: "vs the point before" }],
    },
  } as VegaLiteSpec;
}
