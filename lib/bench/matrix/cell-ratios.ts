/**
 * Each cell's allocators against the system baseline of the same cell (bench x size x threads x
 * engine): medians over repetitions and their ratio, as the matrix and merge print them.
 */
import { allocatorLabel } from './compare';
import { cellOf } from './matrix';
import type { CsvRow } from './results-csv';
import { median } from './statistics';

export interface CellRatio {
  /** `fixed 128, 2 threads, bun`. */
  cell: string;
  series: string;
  reps: number;
  /** Median ops/s of the series and of system in the cell. */
  median: number;
  systemMedian: number;
  ratio: number;
}

/** One entry per (cell, non-system series) with a measured system baseline in the cell, in row order. */
export function cellRatios(rows: readonly CsvRow[]): CellRatio[] {
  const groups = new Map<string, Map<string, number[]>>();
  for (const r of rows) {
    if (r.skipped !== '') continue;
    const cell = groups.get(cellOf(r)) ?? new Map<string, number[]>();
    const series = allocatorLabel(r);
    cell.set(series, [...(cell.get(series) ?? []), Number(r.opsPerSec)]);
    groups.set(cellOf(r), cell);
  }
  const ratios: CellRatio[] = [];
  for (const [cell, series] of groups) {
    const system = series.get('system');
    if (system === undefined) continue;
    const systemMedian = median(system);
    for (const [name, rates] of series) {
      if (name === 'system') continue;
      const m = median(rates);
      ratios.push({ cell: cellLabel(cell), series: name, reps: rates.length, median: m, systemMedian, ratio: m / systemMedian });
    }
  }
  return ratios;
}

/** `fixed|128|2|bun` -> `fixed 128, 2 threads, bun`. */
function cellLabel(cell: string): string {
  const [bench, size, threads, engine] = cell.split('|');
  return `${bench} ${size}${threads === '1' ? '' : `, ${threads} threads`}, ${engine}`;
}
