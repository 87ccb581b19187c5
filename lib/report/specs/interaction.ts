// What a reader can do with a chart in a report page or in JupyterLab: click a legend entry to bring
// one series forward, wheel to zoom and drag to pan along quantitative axes (double-click resets).

const PICK = "pick";

/** A point selection bound to the color legend: clicking an entry highlights that series. */
export function legendPick(field: string) {
  return { name: PICK, select: { type: "point" as const, fields: [field] }, bind: "legend" as const };
}

/** Full opacity for the picked series (for all while nothing is picked), faint for the others. */
export const pickedOpacity = { condition: { param: PICK, value: 1 }, value: 0.15 };

/** Zoom and pan: an interval selection bound to the scales of the given axes. */
export function zoomPan(encodings: readonly ("x" | "y")[] = ["x", "y"]) {
  return { name: "zoom", select: { type: "interval" as const, encodings: [...encodings] }, bind: "scales" as const };
}
