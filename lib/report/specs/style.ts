// Shared look of the charts: schema, colors (the system baseline is always grey).
import { SYSTEM } from "./aggregate";

export const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/** Grouped bars: each bar of a group gets this width, so groups grow with the series. */
export const OFFSET_STEP = { step: 22, for: "offset" } as const;

const BASELINE_GREY = "#9e9e9e";
const PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#eeca3b"];

/** A color scale for the series, keeping each series' color the same in every chart of a run. */
export function seriesColors(series: readonly string[]): { domain: string[]; range: string[] } {
  let next = 0;
  return { domain: [...series], range: series.map((s) => (s === SYSTEM ? BASELINE_GREY : PALETTE[next++ % PALETTE.length])) };
}

/** Ratio labels as the seeds write them: 0.62x, 1.46x. */
export function ratioLabel(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}
