// The bootstrap 95% interval of a median ratio, as compare computes it, with a label for tooltips.
import { bootstrapMedianRatio } from "../../bench/matrix/statistics";
import { ratioLabel } from "./style";

export interface RatioInterval {
  low: number | null;
  high: number | null;
  /** "0.73×–0.77× (95%)"; null when either side has a single repetition (no interval to speak of). */
  intervalLabel: string | null;
}

/** median(series) / median(base): its bootstrap interval over the repetitions of both. */
export function ratioInterval(base: readonly number[], series: readonly number[]): RatioInterval {
  if (base.length < 2 || series.length < 2) return { low: null, high: null, intervalLabel: null };
  const { low, high, level } = bootstrapMedianRatio(base, series);
  return { low, high, intervalLabel: `${ratioLabel(low)}–${ratioLabel(high)} (${Math.round(level * 100)}%)` };
}
