// Grouped bars with a value label on each bar and a dashed line at 1.0: the shape of every ratio
// chart (throughput over glibc per size, per engine, per trace) and of utilization per trace.
import type { VegaLiteSpec } from "../plot";
import { legendPick, pickedOpacity } from "./interaction";
import { OFFSET_STEP, SCHEMA, seriesColors } from "./style";

type Layers = Extract<VegaLiteSpec, { layer: unknown }>["layer"];

export interface GroupedBars {
  title: string;
  points: readonly object[];
  /** The groups along x: field, its order, axis title, whether its values are ordinal sizes, and the labels' angle (default 0). */
  group: { field: string; sort: readonly (string | number)[]; title: string; type?: "nominal" | "ordinal"; labelAngle?: number };
  /** The bars within a group, colored: field, order, legend title (clicking an entry highlights its bars). */
  bars: { field: string; sort: readonly string[]; title: string };
  /** The bar height: field and axis title (and format, e.g. ".0%"). */
  value: { field: string; title: string; format?: string };
  /** The value axis runs from 0 to this (the caller caps the bars at it), instead of fitting the data. */
  max?: number;
  /** The field printed above each bar. */
  label: string;
  tooltip: readonly object[];
  /** The dashed line at 1.0 and its label (none: no label). */
  unitLabel?: string;
}

export function groupedBars(g: GroupedBars): VegaLiteSpec {
  const x = { field: g.group.field, type: g.group.type ?? "nominal", sort: [...g.group.sort], title: g.group.title, axis: { labelAngle: g.group.labelAngle ?? 0 } };
  const xOffset = { field: g.bars.field, sort: [...g.bars.sort] };
  const y = { field: g.value.field, type: "quantitative" } as const;
  return {
    $schema: SCHEMA,
    title: g.title,
    width: OFFSET_STEP,
    layer: [
      {
        data: { values: [...g.points] },
        params: [legendPick(g.bars.field)],
        mark: { type: "bar" },
        encoding: {
          x, xOffset,
          y: {
            ...y,
            title: g.value.title,
            ...(g.value.format ? { axis: { format: g.value.format } } : {}),
            ...(g.max !== undefined ? { scale: { domain: [0, g.max] } } : {}),
          },
          color: { field: g.bars.field, type: "nominal", scale: seriesColors(g.bars.sort), sort: [...g.bars.sort], title: g.bars.title },
          opacity: pickedOpacity,
          tooltip: [...g.tooltip],
        },
      },
      {
        data: { values: [...g.points] },
        mark: { type: "text", baseline: "bottom", dy: -3, fontSize: 9 },
        encoding: { x, xOffset, y, text: { field: g.label }, opacity: pickedOpacity },
      },
      unitRule(g.unitLabel),
    ],
  } as VegaLiteSpec;
}

/** A dashed line at 1.0, with a small label when given. */
function unitRule(label: string | undefined): Layers[number] {
  const rule: Layers[number] = {
    mark: { type: "rule", strokeDash: [4, 3], color: "#666" },
    encoding: { y: { field: "baseline", type: "quantitative" } },
  };
  if (label === undefined) return { data: { values: [{ baseline: 1 }] }, ...rule };
  return {
    data: { values: [{ baseline: 1, label }] },
    layer: [
      rule,
      {
        mark: { type: "text", align: "left", baseline: "bottom", x: 2, dy: -2, fontSize: 9, color: "#666" },
        encoding: { y: { field: "baseline", type: "quantitative" }, text: { field: "label" } },
      },
    ],
  };
}
