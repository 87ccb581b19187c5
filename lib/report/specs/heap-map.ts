// SuperSlab occupancy: one square per slab (columns) of each SuperSlab (rows),
// shaded by used/capacity and labelled with the class that owns it.
import type { VegaLiteSpec } from "../plot";
import { HeapCell } from "./rows";
import { SCHEMA } from "./style";

export function heapMap(cells: readonly HeapCell[], title = "SuperSlab occupancy"): VegaLiteSpec {
  const values = cells.map((c) => ({
    ...c,
    occupancy: c.capacity > 0 ? c.used / c.capacity : 0,
    label: c.cls === null ? "" : `C${c.cls}`,
  }));
  const x = { field: "slab", type: "ordinal", title: "slab" } as const;
  const y = { field: "superslab", type: "ordinal", title: "SuperSlab" } as const;
  return {
    $schema: SCHEMA,
    title,
    data: { values },
    width: { step: 22 },
    height: { step: 22 },
    layer: [
      {
        mark: { type: "rect", stroke: "white", strokeWidth: 1 },
        encoding: {
          x, y,
          color: {
            condition: { test: "datum.cls === null", value: "#eeeeee" },
            field: "occupancy", type: "quantitative", scale: { domain: [0, 1], scheme: "blues" }, title: "used / capacity",
          },
          tooltip: [
            { field: "superslab" }, { field: "slab" }, { field: "label", title: "class" },
            { field: "used" }, { field: "capacity" }, { field: "occupancy", format: ".0%" },
          ],
        },
      },
      {
        mark: { type: "text", fontSize: 8 },
        encoding: {
          x, y, text: { field: "label" },
          color: { condition: { test: "datum.occupancy > 0.6", value: "white" }, value: "#333" },
        },
      },
    ],
  } satisfies VegaLiteSpec;
}
