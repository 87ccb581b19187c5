/**
 * The statistics the matrix and compare report: medians and quantiles, a
 * bootstrap confidence interval for a ratio of medians, and the Mann-Whitney
 * rank-sum test. Small samples (3-10 repetitions) are the normal case here.
 */
import { Xorshift32 } from '../workloads/rng';

/** Sorted copy, ascending; rejects empty samples and non-finite values. */
function sorted(xs: readonly number[], what: string): number[] {
  if (xs.length === 0) throw new Error(`${what}: empty sample`);
  if (!xs.every(Number.isFinite)) throw new Error(`${what}: sample has a non-finite value`);
  return [...xs].sort((a, b) => a - b);
}

/** The q-quantile, linear between order statistics (R's type 7, numpy's default). */
export function quantile(xs: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${q}`);
  return quantileOfSorted(sorted(xs, 'quantile'), q);
}

function quantileOfSorted(s: readonly number[], q: number): number {
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return lo + 1 < s.length ? s[lo] + (h - lo) * (s[lo + 1] - s[lo]) : s[lo];
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

export interface RatioInterval {
  /** median(b) / median(a). */
  ratio: number;
  low: number;
  high: number;
  level: number;
}

export interface BootstrapOptions {
  /** Resamples; default 4000. */
  iterations?: number;
  /** Coverage of the interval; default 0.95. */
  level?: number;
  /** Seed of the resampling RNG, so a report is reproducible; default 1. */
  seed?: number;
}

/**
 * Percentile bootstrap interval of median(b) / median(a): both samples are
 * resampled with replacement, independently, and the ratio's quantiles taken.
 */
export function bootstrapMedianRatio(
  a: readonly number[],
  b: readonly number[],
  { iterations = 4000, level = 0.95, seed = 1 }: BootstrapOptions = {},
): RatioInterval {
  const sa = sorted(a, 'bootstrapMedianRatio a');
  const sb = sorted(b, 'bootstrapMedianRatio b');
  const resampledMedian = resampler(seed);
  const ratios: number[] = [];
  for (let i = 0; i < iterations; i++) ratios.push(resampledMedian(sb) / resampledMedian(sa));
  return { ratio: quantileOfSorted(sb, 0.5) / quantileOfSorted(sa, 0.5), ...percentileInterval(ratios, level) };
}

/**
 * Percentile bootstrap interval of one sample's median (`ratio` is the median itself): for paired
 * figures, as ratios of two allocators' times in the same repetition, resampled as pairs.
 */
export function bootstrapMedian(xs: readonly number[], { iterations = 4000, level = 0.95, seed = 1 }: BootstrapOptions = {}): RatioInterval {
  const s = sorted(xs, 'bootstrapMedian');
  const resampledMedian = resampler(seed);
  const medians: number[] = [];
  for (let i = 0; i < iterations; i++) medians.push(resampledMedian(s));
  return { ratio: quantileOfSorted(s, 0.5), ...percentileInterval(medians, level) };
}

/** The median of a resample with replacement of `s`, drawn from one seeded generator per bootstrap. */
function resampler(seed: number): (s: readonly number[]) => number {
  const rng = new Xorshift32(seed);
  const buf: number[] = [];
  return (s) => {
    buf.length = s.length;
    for (let i = 0; i < s.length; i++) buf[i] = s[rng.draw() % s.length];
    return quantileOfSorted(buf.sort((x, y) => x - y), 0.5);
  };
}

/** The central `level` share of the bootstrap's statistics. */
function percentileInterval(stats: number[], level: number): { low: number; high: number; level: number } {
  stats.sort((x, y) => x - y);
  const tail = (1 - level) / 2;
  return { low: quantileOfSorted(stats, tail), high: quantileOfSorted(stats, 1 - tail), level };
}

export interface RankSumResult {
  /** U of sample a: the number of pairs (x in a, y in b) with x > y, ties counting 1/2. */
  u: number;
  z: number;
  /** Two-sided p-value. */
  p: number;
}

/**
 * Mann-Whitney U (Wilcoxon rank-sum) test, two-sided, by the normal
 * approximation with tie correction and continuity correction (as scipy's
 * `mannwhitneyu(method="asymptotic")`). With continuity correction the
 * approximation stays conservative at the tiny sample sizes used here.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): RankSumResult {
  const n1 = a.length;
  const n2 = b.length;
  const all = [...sorted(a, 'mannWhitneyU a').map((v) => ({ v, inA: true })), ...sorted(b, 'mannWhitneyU b').map((v) => ({ v, inA: false }))];
  all.sort((x, y) => x.v - y.v);
  // Midranks for ties; tieTerm = sum of (t^3 - t) over tie groups.
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1].v === all[i].v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (all[k].inA) rankSumA += rank;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance === 0) return { u, z: 0, p: 1 }; // every value equal
  const z = (Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  const zc = Math.max(z, 0);
  return { u, z: Math.sign(u - mean) * zc, p: Math.min(1, 2 * normalUpperTail(zc)) };
}

/** P(Z > z) for a standard normal Z. */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/**
 * Complementary error function by Abramowitz & Stegun 7.1.26 (absolute error
 * below 1.5e-7): ample for deciding p < 0.05; tiny p-values print as "< 0.001".
 */
function erfc(x: number): number {
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const y = poly * Math.exp(-ax * ax);
  return x >= 0 ? y : 2 - y;
}
