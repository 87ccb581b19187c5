/**
 * Benchmark results as the tidy rows the plots take, and their per-cell summary (median, spread,
 * ratio to the system baseline): from live measurements or from a saved result set.
 */
import type { CsvRow } from "../bench/matrix/results-csv";
import type { BenchResult } from "../bench/runner";
import { median } from "../bench/matrix/statistics";
import { groupBy } from "./specs/aggregate";
import { seriesName } from "../bench/matrix/series-name";
import type { LatencyRow, ReplayRow, ThroughputRow, TimelineRow } from "./specs/rows";
import { PERCENTILES } from "../bench/measures/latency";

export { seriesName };

/** Live measurements (lab.measure) as throughput rows; skipped runs are left out. */
export function throughputRows(rows: ReadonlyArray<BenchResult & { label: string; rep: number }>): ThroughputRow[] {
  return rows
    .filter((r) => r.opsPerSec !== null)
    .map((r) => {
      const a = r.args as { min?: number; max?: number };
      const size = r.bench === "fixed" && a.min !== undefined ? a.min : ("mixed" as const);
      return { bench: r.bench, size, allocator: r.label, preset: r.preset ?? "", rep: r.rep, opsPerSec: r.opsPerSec as number };
    });
}

/**
 * A saved result set's rows (results/PROFILE/matrix.csv, data/NAME.csv) as throughput rows of the synthetic
 * loops (fixed, random-mixed), one thread count and one engine: by default the running node's rows (else the
 * first engine's), so charts never mix engines; `engine: null` keeps every engine (engineRatios).
 */
export function resultSetRows(rows: readonly CsvRow[], threads = 1, engine: string | null = mainEngine(rows)): ThroughputRow[] {
  const loops = new Set(["fixed", "random-mixed"]);
  return rows
    .filter((r) => loops.has(r.bench) && r.skipped === "" && Number(r.threads) === threads && (engine === null || r.engine === engine))
    .map((r) => ({
      bench: r.bench,
      size: r.bench === "fixed" ? Number(r.size) : "mixed",
      allocator: seriesName(r.allocator, r.preset, r.build, r.align),
      preset: r.preset,
      engine: r.engine,
      rep: Number(r.rep),
      opsPerSec: Number(r.opsPerSec),
    }));
}

/** The engine a set's ordinary charts show: the running node when it has rows, else the first engine in it. */
export function mainEngine(rows: readonly Pick<CsvRow, "engine">[]): string | null {
  const engines = [...new Set(rows.map((r) => r.engine))];
  return engines.includes("node") ? "node" : (engines[0] ?? null);
}

export interface SummaryRow {
  bench: string;
  size: number | "mixed";
  allocator: string;
  reps: number;
  /** Median, lowest and highest throughput, in millions of ops per second. */
  mops: number;
  minMops: number;
  maxMops: number;
  /** Median ns per op (one op = one malloc or one free). */
  nsPerOp: number;
  /** This median over the system baseline's median in the same cell; null without a baseline. */
  vsSystem: number | null;
}

/** One row per (bench, size, allocator): medians over repetitions and the ratio to `system`. */
export function summarize(rows: readonly ThroughputRow[], baseline = "system"): SummaryRow[] {
  const cells = groupBy(rows, (r) => `${r.bench}|${r.size}|${r.allocator}`);
  const medians = new Map<string, number>();
  for (const [key, cell] of cells) medians.set(key, median(cell.map((r) => r.opsPerSec)));
  return [...cells.entries()].map(([key, cell]) => {
    const { bench, size, allocator } = cell[0];
    const m = medians.get(key)!;
    const base = medians.get(`${bench}|${size}|${baseline}`);
    const rates = cell.map((r) => r.opsPerSec);
    return {
      bench, size, allocator, reps: cell.length,
      mops: m / 1e6, minMops: Math.min(...rates) / 1e6, maxMops: Math.max(...rates) / 1e6,
      nsPerOp: 1e9 / m,
      vsSystem: base === undefined ? null : m / base,
    };
  });
}

/** The timelines of results (`--timeline K`) as rows, one per sample, named by seriesName. */
export function timelineRows(results: readonly BenchResult[]): TimelineRow[] {
  return results.flatMap((r) => (r.timeline ?? []).map((s) => ({ ...s, allocator: seriesName(r.allocator, r.preset, r.build, r.align) })));
}

/** The latency percentiles of results (`replay --latency`) as rows: one per allocator, op kind and percentile. */
export function latencyRows(results: readonly BenchResult[]): LatencyRow[] {
  return results.flatMap((r) =>
    Object.entries(r.latency?.ops ?? {}).flatMap(([op, l]) =>
      [...PERCENTILES.map(([name]) => name), "max" as const].map((percentile) => ({
        allocator: seriesName(r.allocator, r.preset, r.build, r.align),
        op,
        percentile,
        ns: l[percentile],
      })),
    ),
  );
}

/** A trace's name from its file: the base name without .gz, .trace, .hktrace (data/traces/git-log.trace.gz: git-log). */
export function traceName(file: string): string {
  return (file.split("/").pop() ?? file).replace(/\.gz$/, "").replace(/\.(trace|hktrace)$/, "");
}

/**
 * A run's ns per op of its oracle and of its allocator: from the fastest timed pass of each where the
 * run has them (the steadier reading where the machine's speed changes between passes), else from the
 * sums (results-csv.ts allocatorOnlyNsPerOp reads result sets the same way).
 */
function oracleSplit(r: BenchResult): Pick<ReplayRow, "harnessNsPerOp" | "allocatorNsPerOp"> {
  const best = r.harnessBestPassNsPerOp != null && r.allocatorBestPassNsPerOp != null;
  return best
    ? { harnessNsPerOp: r.harnessBestPassNsPerOp as number, allocatorNsPerOp: r.allocatorBestPassNsPerOp as number }
    : { harnessNsPerOp: r.harnessNsPerOp ?? null, allocatorNsPerOp: r.allocatorNsPerOp ?? null };
}

/**
 * Replay results as rows, one per run that ran (skipped runs are left out), named like the other
 * rows: a measurement's label (lab.measure) where there is one, else by seriesName.
 */
export function replayRows(results: ReadonlyArray<BenchResult & { label?: string; rep?: number }>): ReplayRow[] {
  return results
    .filter((r) => r.bench === "replay" && r.opsPerSec !== null)
    .map((r) => ({
      trace: traceName((r.args as { file: string }).file),
      allocator: r.label ?? seriesName(r.allocator, r.preset, r.build, r.align),
      rep: r.rep,
      opsPerSec: r.opsPerSec as number,
      peakLiveBytes: r.peakLiveBytes ?? 0,
      peakFootprintBytes: r.peakFootprintBytes ?? null,
      utilization: r.utilization ?? null,
      ...oracleSplit(r),
      footprintByStatsBytes: r.footprintByStats?.bytes ?? null,
    }));
}
