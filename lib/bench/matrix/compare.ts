/**
 * Compares two result sets (data/A.csv, data/B.csv) cell by cell: the median
 * throughput ratio B/A with a bootstrap 95% interval, and a rank-sum verdict.
 * Warns when the sets are not comparable as measured: different code, dirty
 * trees, machines, configurations or workloads.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { MatrixRecord } from './matrix';
import { checkoutMismatch, machineOf, type Checkout } from './provenance';
import { allocatorOnlyNsPerOp, readRows, type CsvRow } from './results-csv';
import { seriesName } from './series-name';
import { bootstrapMedianRatio, mannWhitneyU, median } from './statistics';
import { formatRate } from '../runner';

/** The significance level of the verdicts. */
export const ALPHA = 0.05;

export interface ResultSet {
  /** The path it was loaded from, without extension. */
  name: string;
  rows: CsvRow[];
  /** NAME.json, null when absent. */
  record: MatrixRecord | null;
}

export type Verdict = 'faster' | 'slower' | 'no difference' | 'too few reps' | 'not comparable';

/**
 * What a cell compares: the throughput end to end, or for replay also the allocator alone (its ns per
 * op less its oracle's, WORKLOADS.md "replay"), as ops per second of allocator time.
 */
export type Measure = 'end to end' | 'allocator only';

export interface CellComparison {
  /** bench, size, allocator (with :preset and /debug), threads, engine, and what is compared. */
  label: { bench: string; size: string; allocator: string; threads: string; engine: string; measure: Measure };
  a: number[];
  b: number[];
  medianA: number | null;
  medianB: number | null;
  /** median(B) / median(A) and its bootstrap interval; null when not comparable. */
  ratio: number | null;
  low: number | null;
  high: number | null;
  p: number | null;
  verdict: Verdict;
  /** Why not comparable, or the smallest p these sample sizes can give. */
  note: string;
}

export interface Comparison {
  a: string;
  b: string;
  cells: CellComparison[];
  warnings: string[];
}

/** `data/NAME` or `data/NAME.csv`; the CSV must exist. */
export function loadResultSet(pathArg: string): ResultSet {
  const name = pathArg.replace(/\.(csv|json)$/, '');
  const csv = `${name}.csv`;
  if (!existsSync(csv)) throw new Error(`no result set at ${csv}`);
  const { rows } = readRows(csv);
  const json = `${name}.json`;
  const record = existsSync(json) ? (JSON.parse(readFileSync(json, 'utf8')) as MatrixRecord) : null;
  return { name, rows, record };
}

function cellKey(r: CsvRow): string {
  return [r.bench, r.size, r.allocator, r.preset, r.build, r.align, r.threads, r.engine].join('|');
}

/** A row's allocator as tables name it: hakmem:PRESET (with :alignN off the preset's own, and /debug), else the allocator. */
export function allocatorLabel(r: Pick<CsvRow, 'allocator' | 'preset' | 'build' | 'align'>): string {
  return seriesName(r.allocator, r.preset, r.build, r.align);
}

function groupByCell(rows: readonly CsvRow[]): Map<string, CsvRow[]> {
  const cells = new Map<string, CsvRow[]>();
  for (const r of rows) cells.set(cellKey(r), [...(cells.get(cellKey(r)) ?? []), r]);
  return cells;
}

/** Ops per second of the rows that ran (not skipped). */
export const measuredRates = (rows: readonly CsvRow[]) => rows.filter((r) => r.skipped === '').map((r) => Number(r.opsPerSec));

/**
 * Ops per second of allocator time (results-csv.ts allocatorOnlyNsPerOp); none when a row has no oracle
 * figure or one within the oracle's noise (<= 0).
 */
function allocatorRates(rows: readonly CsvRow[]): number[] | null {
  const ns = rows.filter((r) => r.skipped === '').map((r) => allocatorOnlyNsPerOp(r) ?? NaN);
  return ns.length > 0 && ns.every((x) => x > 0) ? ns.map((x) => 1e9 / x) : null;
}

export function compareSets(a: ResultSet, b: ResultSet, checkout: Checkout): Comparison {
  const cellsA = groupByCell(a.rows);
  const cellsB = groupByCell(b.rows);
  const keys = [...new Set([...cellsA.keys(), ...cellsB.keys()])];
  const warnings = setWarnings(a, b, checkout);
  const cells = keys.map((key) => {
    const rowsA = cellsA.get(key) ?? [];
    const rowsB = cellsB.get(key) ?? [];
    const sample = rowsA[0] ?? rowsB[0];
    const label = {
      bench: sample.bench,
      size: sample.size,
      allocator: allocatorLabel(sample),
      threads: sample.threads,
      engine: sample.engine,
      measure: 'end to end' as Measure,
    };
    const fingerprints = (rows: CsvRow[]) => [...new Set(rows.map((r) => r.fingerprint).filter(Boolean))].join(' ');
    const [fa, fb] = [fingerprints(rowsA), fingerprints(rowsB)];
    if (fa && fb && fa !== fb) {
      warnings.push(
        `${label.bench} ${label.size} ${label.allocator}: A and B have different fingerprints (${fa} vs ${fb}): not the same work`,
      );
    }
    const endToEnd = compareCell(label, rowsA, rowsB, measuredRates(rowsA), measuredRates(rowsB));
    const [ownA, ownB] = [allocatorRates(rowsA), allocatorRates(rowsB)];
    if (ownA === null || ownB === null) return [endToEnd];
    return [endToEnd, compareCell({ ...label, measure: 'allocator only' }, rowsA, rowsB, ownA, ownB)];
  });
  return { a: a.name, b: b.name, cells: cells.flat(), warnings };
}

function compareCell(label: CellComparison['label'], rowsA: CsvRow[], rowsB: CsvRow[], a: number[], b: number[]): CellComparison {
  const none = { medianA: a.length ? median(a) : null, medianB: b.length ? median(b) : null, ratio: null, low: null, high: null, p: null };
  const missing = (rows: CsvRow[], side: string) =>
    rows.length === 0 ? `not in ${side}` : `skipped in ${side}: ${rows.find((r) => r.skipped)?.skipped ?? ''}`;
  if (a.length === 0 || b.length === 0) {
    const note = [a.length ? '' : missing(rowsA, 'A'), b.length ? '' : missing(rowsB, 'B')].filter(Boolean).join('; ');
    return { label, a, b, ...none, verdict: 'not comparable', note };
  }
  const ci = bootstrapMedianRatio(a, b);
  const test = mannWhitneyU(a, b);
  const common = { label, a, b, medianA: median(a), medianB: median(b), ratio: ci.ratio, low: ci.low, high: ci.high, p: test.p };
  // The smallest p any outcome can give with these sample sizes: full separation.
  const floor = mannWhitneyU(
    a.map((_, i) => i),
    b.map((_, i) => a.length + i),
  ).p;
  if (floor >= ALPHA) {
    return { ...common, verdict: 'too few reps', note: `n = ${a.length}/${b.length} cannot reach p < ${ALPHA}: p >= ${floor.toFixed(3)}` };
  }
  // U counts pairs where A beats B: below its mean, B tends to be higher, i.e. faster.
  const verdict: Verdict = test.p >= ALPHA ? 'no difference' : test.z < 0 ? 'faster' : 'slower';
  return { ...common, verdict, note: '' };
}

/** What a set was measured with, each as sorted distinct values. */
function describeSet(set: ResultSet) {
  const distinct = (xs: string[]) => [...new Set(xs)].sort();
  const sessions = (set.record?.sessions ?? []).filter((s) => s.rowsWritten > 0);
  return {
    code: distinct(set.rows.map((r) => `${r.commit.slice(0, 10) || 'no commit'}${r.dirty === 'true' ? ' (dirty)' : ''}`)),
    machines: distinct(sessions.map((s) => machineOf(s.provenance))),
    /** preset/build -> config hash, as 'current/release=50b11dee'. */
    configHashes: distinct(set.rows.filter((r) => r.configHash).map((r) => `${r.preset}/${r.build}=${r.configHash}`)),
    cycles: distinct(set.rows.map((r) => r.cycles)),
    /** The checkouts it was measured at: from its provenance record, else from its rows. */
    checkouts: set.record
      ? sessions.map((s): Checkout => s.provenance)
      : distinct(set.rows.map((r) => `${r.commit}|${r.dirty}`)).map((k): Checkout => {
          const [commit, dirty] = k.split('|');
          return { commit: commit || null, dirty: dirty === 'true', dirtyDigest: null };
        }),
  };
}

/** Everything that makes A and B less than like for like, and results not of this checkout. */
function setWarnings(a: ResultSet, b: ResultSet, checkout: Checkout): string[] {
  const warnings: string[] = [];
  const da = describeSet(a);
  const db = describeSet(b);
  for (const [side, set, d] of [['A', a, da], ['B', b, db]] as const) {
    const who = `${side} (${set.name})`;
    if (d.code.length > 1) warnings.push(`${who} mixes results of different code: ${d.code.join(', ')}`);
    if (d.code.some((x) => x.endsWith('(dirty)'))) warnings.push(`${who} has results measured with uncommitted changes`);
    if (d.machines.length > 1) warnings.push(`${who} mixes machines: ${d.machines.join(' | ')}`);
    if (!set.record) warnings.push(`${who} has no provenance record (${set.name}.json): machine unknown`);
    // Results measured with other code than this checkout's are flagged, not hidden.
    const mismatches = new Set(d.checkouts.map((c) => checkoutMismatch(c, checkout)).filter((m) => m !== null));
    for (const m of mismatches) warnings.push(`${who} does not match the current checkout: ${m}`);
  }
  const differ = (what: string, x: string[], y: string[]) => {
    if (x.join() !== y.join()) warnings.push(`A and B differ in ${what}: A ${x.join(', ') || '-'}; B ${y.join(', ') || '-'}`);
  };
  differ('code (commit, dirty)', da.code, db.code);
  if (da.machines.length && db.machines.length) differ('machine', da.machines, db.machines);
  const hashesA = new Map(da.configHashes.map((h) => h.split('=') as [string, string]));
  for (const [config, hash] of db.configHashes.map((h) => h.split('=') as [string, string])) {
    const other = hashesA.get(config);
    if (other !== undefined && other !== hash) warnings.push(`A and B differ in hakmem config hash for ${config}: A ${other}, B ${hash}`);
  }
  differ('cycles per run (throughput depends on run length)', da.cycles, db.cycles);
  return warnings;
}

/** The comparison as a table with its warnings, for a terminal. */
export function formatComparison(c: Comparison): string {
  const header = ['bench', 'size', 'allocator', 'measure', 'n A/B', 'A median', 'B median', 'B/A', '95% CI', 'p', 'verdict'];
  const fmtRatio = (x: number | null) => (x === null ? '-' : x.toFixed(3));
  const body = c.cells.map((cell) => [
    cell.label.bench,
    cell.label.size,
    cell.label.allocator + (cell.label.threads !== '1' ? ` x${cell.label.threads}` : '') + (cell.label.engine && cell.label.engine !== 'node' ? ` on ${cell.label.engine}` : ''),
    cell.label.measure,
    `${cell.a.length}/${cell.b.length}`,
    cell.medianA === null ? '-' : formatRate(cell.medianA),
    cell.medianB === null ? '-' : formatRate(cell.medianB),
    fmtRatio(cell.ratio),
    cell.low === null ? '-' : `[${fmtRatio(cell.low)}, ${fmtRatio(cell.high)}]`,
    cell.p === null ? '-' : cell.p < 0.001 ? '<0.001' : cell.p.toFixed(3),
    cell.verdict + (cell.note ? ` (${cell.note})` : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((f, i) => (i === r.length - 1 ? f : f.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [
    `A = ${c.a}, B = ${c.b}: throughput (ops/s), B/A > 1 means B is faster; verdict by rank-sum test at p < ${ALPHA}`,
    `replay rows also compare the allocator only: ops per second of its time less its oracle's (the replay loop's own), from the fastest passes`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
  ];
  if (c.warnings.length) out.push('', 'warnings:', ...c.warnings.map((w) => `  ! ${w}`));
  return `${out.join('\n')}\n`;
}
