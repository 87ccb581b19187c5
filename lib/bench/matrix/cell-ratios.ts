/**
 * Each cell's allocators against the system baseline of the same cell (bench x size x threads x
 * engine): medians over repetitions and their ratio, as the matrix and merge print them; for replay,
 * also the allocator's own time against system's, paired by repetition.
 */
import { allocatorLabel, measuredRates } from './compare';
import { cellOf } from './matrix';
import { allocatorOnlyNsPerOp, type CsvRow } from './results-csv';
import { bootstrapMedian, median } from './statistics';

export interface CellRatio {
  /** `fixed 128, 2 threads, bun`. */
  cell: string;
  series: string;
  reps: number;
  /** Median ops/s of the series and of system in the cell. */
  median: number;
  systemMedian: number;
  ratio: number;
  /** Replay cells whose rows carry the oracle's figures: allocator-only time against system's; else null. */
  allocatorOnly: AllocatorOnlyRatio | null;
}

/**
 * The series' allocator-only ns per op (results-csv.ts allocatorOnlyNsPerOp: each run's fastest pass
 * less its oracle's) over system's, paired by repetition: the matrix runs a cell's allocators one
 * after the other in each repetition, so a pair shares the machine's state of the moment.
 */
export interface AllocatorOnlyRatio {
  /** Repetitions where both have a figure above 0 (at or below 0 is within the oracle's noise). */
  pairs: number;
  /** Median of the series' and of system's figures over those repetitions. */
  medianNs: number;
  systemMedianNs: number;
  /** Median of the paired ratios (below 1: less time than system), and its bootstrap 95% interval. */
  ratio: number;
  low: number;
  high: number;
  /** Pairs where the series took less time. */
  below: number;
  /** The series' fastest figure over system's fastest. */
  bestRatio: number;
  /** What the interval says: wholly below 1, wholly above, or around it. */
  verdict: 'less time' | 'more time' | 'no difference';
}

/** One entry per (cell, non-system series) with a measured system baseline in the cell, in row order. */
export function cellRatios(rows: readonly CsvRow[]): CellRatio[] {
  const groups = new Map<string, Map<string, CsvRow[]>>();
  for (const r of rows) {
    if (r.skipped !== '') continue;
    const cell = groups.get(cellOf(r)) ?? new Map<string, CsvRow[]>();
    const series = allocatorLabel(r);
    cell.set(series, [...(cell.get(series) ?? []), r]);
    groups.set(cellOf(r), cell);
  }
  const ratios: CellRatio[] = [];
  for (const [cell, series] of groups) {
    const system = series.get('system');
    if (system === undefined) continue;
    const systemMedian = median(measuredRates(system));
    for (const [name, runs] of series) {
      if (name === 'system') continue;
      const m = median(measuredRates(runs));
      ratios.push({
        cell: cellLabel(cell),
        series: name,
        reps: runs.length,
        median: m,
        systemMedian,
        ratio: m / systemMedian,
        allocatorOnly: allocatorOnlyRatio(runs, system),
      });
    }
  }
  return ratios;
}

/** The paired allocator-only figure of a series' runs against system's (AllocatorOnlyRatio), or null with no pair. */
function allocatorOnlyRatio(runs: readonly CsvRow[], system: readonly CsvRow[]): AllocatorOnlyRatio | null {
  const systemByRep = new Map(system.map((r) => [r.rep, allocatorOnlyNsPerOp(r)]));
  const pairs: Array<[number, number]> = [];
  for (const r of runs) {
    const [ns, systemNs] = [allocatorOnlyNsPerOp(r), systemByRep.get(r.rep) ?? null];
    if (ns !== null && systemNs !== null && ns > 0 && systemNs > 0) pairs.push([ns, systemNs]);
  }
  if (pairs.length === 0) return null;
  const ratios = pairs.map(([ns, systemNs]) => ns / systemNs);
  const { ratio, low, high } = bootstrapMedian(ratios);
  return {
    pairs: pairs.length,
    medianNs: median(pairs.map(([ns]) => ns)),
    systemMedianNs: median(pairs.map(([, systemNs]) => systemNs)),
    ratio,
    low,
    high,
    below: ratios.filter((x) => x < 1).length,
    bestRatio: Math.min(...pairs.map(([ns]) => ns)) / Math.min(...pairs.map(([, systemNs]) => systemNs)),
    verdict: high < 1 ? 'less time' : low > 1 ? 'more time' : 'no difference',
  };
}

/** `fixed|128|2|bun` -> `fixed 128, 2 threads, bun`. */
function cellLabel(cell: string): string {
  const [bench, size, threads, engine] = cell.split('|');
  return `${bench} ${size}${threads === '1' ? '' : `, ${threads} threads`}, ${engine}`;
}
