// Throughput repetitions reduced to one point per (bench, size, series), with
// the ratio to the system baseline at the same bench and size and its bootstrap interval.
import { groupBy, median, seriesNamer, SYSTEM } from "./aggregate";
import { ratioInterval, type RatioInterval } from "./ratio-interval";
import { ratioLabel } from "./style";
import { ThroughputRow } from "./rows";

export interface ThroughputPoint extends RatioInterval {
  bench: string;
  size: string;
  series: string;
  /** Median, min and max over the repetitions, in millions of ops/s. */
  mops: number;
  minMops: number;
  maxMops: number;
  reps: number;
  /** Median over the system baseline's median; null for the baseline itself or without one. */
  ratio: number | null;
  ratioLabel: string | null;
}

export function throughputPoints(rows: readonly ThroughputRow[]): ThroughputPoint[] {
  const name = seriesNamer(rows);
  const groups = groupBy(rows, (r) => JSON.stringify([r.bench, String(r.size), name(r)]));
  const rates = new Map<ThroughputPoint, number[]>();
  const points = [...groups.values()].map((g): ThroughputPoint => {
    const ops = g.map((r) => r.opsPerSec / 1e6);
    const point: ThroughputPoint = {
      bench: g[0].bench, size: String(g[0].size), series: name(g[0]),
      mops: median(ops), minMops: Math.min(...ops), maxMops: Math.max(...ops), reps: g.length,
      ratio: null, ratioLabel: null, low: null, high: null, intervalLabel: null,
    };
    rates.set(point, ops);
    return point;
  });
  const baseline = new Map(points.filter((p) => p.series === SYSTEM).map((p) => [`${p.bench}\0${p.size}`, p]));
  for (const p of points) {
    const base = baseline.get(`${p.bench}\0${p.size}`);
    if (p.series !== SYSTEM && base) {
      p.ratio = p.mops / base.mops;
      p.ratioLabel = ratioLabel(p.ratio);
      Object.assign(p, ratioInterval(rates.get(base)!, rates.get(p)!));
    }
  }
  return points;
}

/** Size labels in axis order: numeric sizes ascending, then "mixed". */
export function sizeOrder(points: readonly { size: string }[]): string[] {
  const sizes = [...new Set(points.map((p) => p.size))];
  const key = (s: string) => (s === "mixed" ? Infinity : Number(s));
  return sizes.sort((a, b) => key(a) - key(b));
}
