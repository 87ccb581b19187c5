/**
 * Benchmark results as the tidy rows the plots take, and their per-cell summary (median, spread,
 * ratio to the system baseline): from live measurements or from a saved result set.
 */
import type { CsvRow } from "../bench/matrix/results-csv";
import type { BenchResult } from "../bench/runner";
import { median } from "../bench/matrix/statistics";
import { groupBy } from "./specs/aggregate";
import { isPresetName, presetAlign, type PresetName } from "../alloc/presets";
import type { ThroughputRow } from "./specs/rows";

/**
 * The name a result goes by in tables and plots: `hakmem:PRESET` (with `:alignN` when the block
 * alignment is not the preset's own, and `/debug`), else the allocator.
 */
export function seriesName(allocator: string, preset: string | null, build: string | null, align: number | string | null = null): string {
  if (allocator !== "hakmem") return allocator;
  const name = isPresetName(preset || "current") ? ((preset || "current") as PresetName) : null;
  const alignN = align === null || align === "" ? null : Number(align);
  const alignLabel = name !== null && alignN !== null && alignN !== presetAlign(name) ? `:align${alignN}` : "";
  return `hakmem:${preset || "current"}${alignLabel}${build === "debug" ? "/debug" : ""}`;
}

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

/** A saved result set's rows (data/NAME.csv) as throughput rows, one thread count. */
export function resultSetRows(rows: readonly CsvRow[], threads = 1): ThroughputRow[] {
  return rows
    .filter((r) => r.skipped === "" && Number(r.threads) === threads)
    .map((r) => ({
      bench: r.bench,
      size: r.bench === "fixed" ? Number(r.size) : "mixed",
      allocator: seriesName(r.allocator, r.preset, r.build, r.align),
      preset: r.preset,
      rep: Number(r.rep),
      opsPerSec: Number(r.opsPerSec),
    }));
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
