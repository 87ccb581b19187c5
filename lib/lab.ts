/**
 * Everything a notebook or the REPL needs in one import: the allocator, the benchmarks (each
 * measured repetition in a fresh process), statistics, result sets and the report helpers.
 */
import { benchInFreshProcess } from "./bench/bench-process";
import type { BenchResult } from "./bench/runner";
import { progress } from "./report/progress";
import { seriesName } from "./report/result-rows";

export * from "./index";
export { table, tableHtml, plot, renderSvg, progress, throughputBySize, ratioToSystem, engineRatios, routeShares, scaling, heapMap, footprintTimeline, latencyPercentiles, replayRatios, replayUtilization, suiteBars, suiteFigures, GEOMEAN } from "./report/index";
export { reportSummary, setProvenance, liveProvenance } from "./report/index";
export type { ThroughputRow, ScalingRow, RouteShareRow, HeapCell, TimelineRow, LatencyRow, ReplayRow, SuiteFigures, SuiteCell } from "./report/index";
export { median, quantile, bootstrapMedianRatio, mannWhitneyU } from "./bench/matrix/statistics";
export { benchInFreshProcess } from "./bench/bench-process";
export { loadResultSet, compareSets, formatComparison } from "./bench/matrix/compare";
export { runMatrix, PROFILES } from "./bench/matrix/matrix";
export { parseMatrixArgs } from "./bench/matrix/matrix-args";
export { suiteWorkloads } from "./bench/workloads/registry";
export { suiteArgv } from "./bench/workloads/workload";
export { newestResultSet } from "./bench/matrix/locations";
export { collectProvenance, currentCheckout } from "./bench/matrix/provenance";
export { larsonThreads, randomMixedThreads } from "./bench/threads/run-threads";
export type { BenchResult } from "./bench/runner";
export { BUNDLED_TRACES, BUNDLE_DIR, readManifest, type ManifestEntry } from "./trace/bundle";
export { recordTrace, RecordError, type RecordResult } from "./trace/record";
export { readTrace } from "./trace/read";
export { classFloors, classFloorOptions, type ClassFloors } from "./bench/measures/class-floor";
export { traceStats, formatStats as formatTraceStats, type TraceStats } from "./trace/stats";
export { parseCommandLine, CommandLineError, type CommandLine } from "./trace/command-line";
export { throughputRows, resultSetRows, mainEngine, summarize, timelineRows, latencyRows, replayRows, traceName, type SummaryRow } from "./report/result-rows";

/** One measurement: a `npm run bench` command line (without --json) and extra environment. */
export interface Measurement {
  /** A name for the rows (e.g. "hakmem:phase7"); default: the allocator and preset that ran. */
  label?: string;
  argv: (string | number)[];
  env?: Record<string, string>;
}

/** A repetition's result with its label and repetition number. */
export interface MeasuredRow extends BenchResult {
  label: string;
  rep: number;
}

/**
 * Runs every measurement `reps` times, each repetition in a fresh process, repetition-major (so slow
 * drift hits every measurement alike), with a live progress line. Skipped baselines stay in the rows
 * with `skipped` set and null figures.
 */
export async function measure(measurements: Measurement[], reps: number, label = "measuring"): Promise<MeasuredRow[]> {
  const bar = progress(label, measurements.length * reps);
  const rows: MeasuredRow[] = [];
  try {
    for (let rep = 1; rep <= reps; rep++) {
      for (const m of measurements) {
        const r = await benchInFreshProcess(m.argv.map(String), m.env);
        rows.push({ ...r, label: m.label ?? seriesName(r.allocator, r.preset, r.build, r.align), rep });
        bar.tick();
      }
    }
  } finally {
    bar.done();
  }
  return rows;
}
