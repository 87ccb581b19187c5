/**
 * Per-op latency histograms: hdr-histogram-js, with the bucket definition scripts/native/hdr.h
 * copies (lowest discernible 1 ns, highest trackable 10^10 ns, 3 significant digits), so native
 * and TypeScript percentiles agree up to bucket resolution (under 0.1% of the value).
 */
import { build, type Histogram } from 'hdr-histogram-js';
import { performance } from 'node:perf_hooks';

export const LATENCY_HISTOGRAM = { lowestDiscernibleValue: 1, highestTrackableValue: 1e10, numberOfSignificantValueDigits: 3 } as const;

/** Op kinds with a histogram each, in trace op-kind order (lib/trace/trace.ts OP_*). */
export const LATENCY_OPS = ['malloc', 'calloc', 'realloc', 'aligned', 'free'] as const;
export type LatencyOp = (typeof LATENCY_OPS)[number];

export const PERCENTILES = [
  ['p50', 50],
  ['p90', 90],
  ['p99', 99],
  ['p99.9', 99.9],
  ['p99.99', 99.99],
] as const;
export type PercentileName = (typeof PERCENTILES)[number][0] | 'max';

/** One op kind's latencies, in ns: how many, the percentiles and the largest. */
export type OpLatency = { count: number } & Record<PercentileName, number>;

export interface LatencyReport {
  /** The clock every op was timed with. */
  clock: string;
  /** The median of back-to-back clock reads, in ns. Each op's figure includes one such cost; it is not subtracted. */
  timerCostNs: number;
  /** Op kinds the trace has. */
  ops: Partial<Record<LatencyOp, OpLatency>>;
}

export function newLatencyHistogram(): Histogram {
  return build({ ...LATENCY_HISTOGRAM, bitBucketSize: 64, useWebAssembly: false });
}

/** Records `ns`, values past the trackable range as its highest (as the C side does). */
export function recordLatency(h: Histogram, ns: number): void {
  h.recordValue(Math.min(ns, LATENCY_HISTOGRAM.highestTrackableValue));
}

/** The histogram's percentiles; `max` as given when the histogram holds bucket values only (the C side's). */
export function opLatency(h: Histogram, max: number = h.maxValue): OpLatency {
  const out = { count: h.totalCount, max } as OpLatency;
  for (const [name, p] of PERCENTILES) out[name] = h.getValueAtPercentile(p);
  return out;
}

/** A histogram from the C side's non-empty buckets, [lowest equivalent value, count] each. */
export function histogramFromBuckets(buckets: ReadonlyArray<readonly [number, number]>): Histogram {
  const h = newLatencyHistogram();
  for (const [value, count] of buckets) h.recordValueWithCount(value, count);
  return h;
}

/** The clock the TypeScript replayer times ops with: a double, no BigInt allocated per read. */
export const now = (): number => performance.now();
export const CLOCK = 'performance.now() (ns resolution, a double in ms)';

/** The median cost of one read of `now`, in ns, from back-to-back reads. */
export function timerCostNs(samples = 10_001): number {
  const d = new Float64Array(samples);
  for (let k = 0; k < samples; k++) {
    const a = now();
    d[k] = (now() - a) * 1e6;
  }
  d.sort();
  return Math.round(d[samples >> 1]);
}
