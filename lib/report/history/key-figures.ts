/**
 * The figures the history follows, read from one result set: per workload, hakmem against glibc
 * (`system`). Each figure keeps its per-run samples, so two points can be compared as compare does.
 * Throughput ratios pair hakmem's run k with glibc's run k of the same cell: the matrix runs every
 * allocator's run k back to back, so the pair shares the machine's state and the ratio cancels it.
 */
import { allocatorLabel } from "../../bench/matrix/compare";
import { cellOf } from "../../bench/matrix/matrix";
import { allocatorOnlyNsPerOp, type CsvRow } from "../../bench/matrix/results-csv";
import { median } from "../../bench/matrix/statistics";
import { SYSTEM } from "../specs/aggregate";

export interface KeyFigure {
  id: string;
  title: string;
  /** The axis title, with its unit. */
  unit: string;
  /** "higher" when a larger value is better. */
  better: "higher" | "lower";
  /** What the figure is, for the page. */
  about: string;
}

export const KEY_FIGURES: readonly KeyFigure[] = [
  { id: "throughput-ratio", title: "Throughput: hakmem / glibc", unit: "× glibc (median of paired runs)", better: "higher", about: "hakmem's ops/s over glibc's in the same run k of the same cell" },
  { id: "allocator-ratio", title: "Allocator time: glibc / hakmem", unit: "× glibc, allocator only", better: "higher", about: "glibc's allocator ns per op over hakmem's, the harness's own time taken out (replay rows with an oracle figure: each run's fastest pass where the set has it)" },
  { id: "utilization", title: "Utilization: peak live / peak footprint", unit: "peak live / peak footprint", better: "higher", about: "how much of the memory hakmem held at most was live data (replay rows)" },
];

/** One figure on one workload in one result set: the samples behind one point of the history. */
export interface FigureSample {
  figure: string;
  /** `random-mixed 16..1024`, `replay git-log, 2 threads`, with the hakmem configuration when not current. */
  workload: string;
  commit: string;
  dirty: boolean;
  /** One value per run (or run pair). */
  samples: number[];
  value: number;
}

const measured = (rows: readonly CsvRow[]) => rows.filter((r) => r.skipped === "");
const numberOf = (s: string | undefined) => (s === undefined || s === "" ? null : Number(s));

function workloadOf(r: CsvRow): string {
  const [bench, size, threads, engine] = cellOf(r).split("|");
  const label = allocatorLabel(r);
  return [
    `${bench} ${size}`,
    threads === "1" ? "" : `, ${threads} threads`,
    engine === "node" ? "" : `, ${engine}`,
    label === "hakmem:current" ? "" : ` (${label})`,
  ].join("");
}

/** Run k of hakmem with run k of glibc in the same cell, through `pair`; runs without a partner drop out. */
function paired(rows: readonly CsvRow[], pair: (hakmem: CsvRow, system: CsvRow) => number | null): Map<string, { row: CsvRow; samples: number[] }> {
  const systems = new Map(measured(rows).filter((r) => r.allocator === SYSTEM).map((r) => [`${cellOf(r)}|${r.rep}|${r.commit}`, r]));
  const out = new Map<string, { row: CsvRow; samples: number[] }>();
  for (const r of measured(rows).filter((x) => x.allocator === "hakmem")) {
    const system = systems.get(`${cellOf(r)}|${r.rep}|${r.commit}`);
    const value = system ? pair(r, system) : null;
    if (value === null || !Number.isFinite(value)) continue;
    const key = `${workloadOf(r)}|${r.commit}|${r.dirty}`;
    const entry = out.get(key) ?? { row: r, samples: [] };
    entry.samples.push(value);
    out.set(key, entry);
  }
  return out;
}

function ownSamples(rows: readonly CsvRow[], value: (r: CsvRow) => number | null): Map<string, { row: CsvRow; samples: number[] }> {
  const out = new Map<string, { row: CsvRow; samples: number[] }>();
  for (const r of measured(rows).filter((x) => x.allocator === "hakmem")) {
    const v = value(r);
    if (v === null || !Number.isFinite(v)) continue;
    const key = `${workloadOf(r)}|${r.commit}|${r.dirty}`;
    const entry = out.get(key) ?? { row: r, samples: [] };
    entry.samples.push(v);
    out.set(key, entry);
  }
  return out;
}

const EXTRACT: Record<string, (rows: readonly CsvRow[]) => Map<string, { row: CsvRow; samples: number[] }>> = {
  "throughput-ratio": (rows) => paired(rows, (h, s) => Number(h.opsPerSec) / Number(s.opsPerSec)),
  "allocator-ratio": (rows) =>
    paired(rows, (h, s) => {
      const [hn, sn] = [allocatorOnlyNsPerOp(h), allocatorOnlyNsPerOp(s)];
      return hn === null || sn === null || hn <= 0 ? null : sn / hn;
    }),
  utilization: (rows) => ownSamples(rows.filter((r) => r.bench === "replay"), (r) => numberOf(r.utilization)),
};

/** Every key figure the set's rows hold, one entry per (figure, workload, commit). */
export function keyFigureSamples(rows: readonly CsvRow[]): FigureSample[] {
  return KEY_FIGURES.flatMap((figure) =>
    [...EXTRACT[figure.id](rows).values()].map(({ row, samples }) => ({
      figure: figure.id,
      workload: workloadOf(row),
      commit: row.commit,
      dirty: row.dirty === "true",
      samples,
      value: median(samples),
    })),
  );
}

/** Key figures no result set can hold yet, and why. */
export const NOT_RECORDED: readonly string[] = [
  "Latency p99.9 per op: result sets do not record latency percentiles (the replay bench measures them on request, in the notebooks)",
];
