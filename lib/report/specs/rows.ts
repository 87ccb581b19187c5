// The tidy result rows the spec builders take.
import type { TimelineSample } from "../../bench/measures/timeline";

/** One measured repetition of a throughput benchmark. */
export interface ThroughputRow {
  bench: string;
  /** Block size in bytes, or "mixed" for a size range. */
  size: number | "mixed";
  /** "system", "v8", "thing", "hakmem", ... */
  allocator: string;
  /** The allocator preset (hakmem); baselines may leave it empty. */
  preset?: string;
  /** The JS engine it ran on (node, node22, bun, ...); unset: the running node. */
  engine?: string;
  rep?: number;
  opsPerSec: number;
}

/** How many frees took one route under one preset. */
export interface RouteShareRow {
  preset: string;
  route: string;
  count: number;
}

/** One measured repetition at a thread count. */
export interface ScalingRow {
  allocator: string;
  preset?: string;
  threads: number;
  rep?: number;
  opsPerSec: number;
}

/** One slab of one SuperSlab; cls is null for a slab no class owns. */
export interface HeapCell {
  superslab: number;
  slab: number;
  cls: number | null;
  used: number;
  capacity: number;
}

/** One timeline sample of one allocator's run (a BenchResult's `timeline`, with who ran it). */
export type TimelineRow = TimelineSample & { allocator: string };

/** One latency percentile of one op kind on one allocator. */
export interface LatencyRow {
  allocator: string;
  /** malloc, calloc, realloc, aligned, free. */
  op: string;
  /** p50 .. p99.99, or max. */
  percentile: string;
  ns: number;
}

/** One run of the replay bench: a trace on one allocator. */
export interface ReplayRow {
  /** The trace's file name without its extensions (git-log for data/traces/git-log.trace.gz). */
  trace: string;
  allocator: string;
  rep?: number;
  opsPerSec: number;
  peakLiveBytes: number;
  /** The most memory the allocator held in the footprint pass; null where unknown (v8). */
  peakFootprintBytes: number | null;
  /** peakLiveBytes / peakFootprintBytes; null without a footprint. */
  utilization: number | null;
  /**
   * The oracle's ns per op (the replay loop doing no allocator work) and the rest, the allocator's own,
   * from the fastest timed pass of each where the run has them; null where the oracle did not run.
   */
  harnessNsPerOp: number | null;
  allocatorNsPerOp: number | null;
  /** Native allocators: the peak footprint by the allocator's own statistics; null where none. */
  footprintByStatsBytes: number | null;
}
