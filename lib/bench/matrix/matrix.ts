/**
 * The benchmark matrix: allocators x benchmarks (fixed 128/256/512/1024 and
 * random-mixed 16..1024) x repetitions. Each repetition is a fresh child
 * process running `scripts/bench.ts --json` (the warm-up happens inside it),
 * so V8's type feedback and the heap start clean and stay monomorphic.
 *
 * Rows go to OUT.csv as each run finishes (lib/bench/matrix/results-csv.ts), so an
 * interrupted matrix keeps what it measured and the same command resumes it;
 * OUT.json holds the provenance of every session that wrote to the set.
 */
import type { ChildProcess } from 'node:child_process';
import { runBenchProcess } from '../bench-process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { BuildMode } from '../../alloc/config';
import { presetAlign, type PresetName } from '../../alloc/presets';
import type { HeapAlignment } from '../../alloc/size-classes';
import type { AllocatorName } from '../adapters/allocators';
import { collectProvenance, currentCheckout, checkoutMismatch, type Provenance } from './provenance';
import { appendRow, dropPartialTail, readRows, type CsvRow } from './results-csv';
import type { BenchResult } from '../runner';

export const PROFILES = {
  /** Under 5 minutes on 2 cores for all seven allocators. Five reps: with three, a rank-sum test can never reach p < 0.05. */
  quick: { cycles: 2_000_000, reps: 5 },
  /** The seed's standard run length (10M-20M cycles: short runs measure cold start). */
  full: { cycles: 20_000_000, reps: 7 },
} as const;
export type ProfileName = keyof typeof PROFILES;

/** The seed's standard workload. */
export const MATRIX_WS = 400;
export const MATRIX_SEED = 1;
export const FIXED_SIZES = [128, 256, 512, 1024] as const;
export const MIXED_MIN = 16;
export const MIXED_MAX = 1024;

/**
 * An allocator, with a hakmem preset (`hakmem:phase7`; plain `hakmem` is `current`) and maybe a block
 * alignment other than the preset's (`hakmem:current:align16`).
 */
export interface AllocatorSpec {
  allocator: AllocatorName;
  preset: PresetName | null;
  /** null: the preset's own alignment. */
  align: HeapAlignment | null;
}

export interface MatrixOptions {
  /** The result set's path without extension: OUT.csv and OUT.json. */
  out: string;
  profile: ProfileName;
  cycles: number;
  reps: number;
  allocators: readonly AllocatorSpec[];
  /** hakmem's build mode. */
  build: BuildMode;
  /** Thread counts: each cell runs with every count (allocators without a shared heap only with 1). */
  threads: readonly number[];
}

/** One repetition of one cell. */
export interface Run {
  bench: 'fixed' | 'random-mixed';
  min: number;
  max: number;
  spec: AllocatorSpec;
  threads: number;
  rep: number;
}

export interface MatrixHooks {
  /** Before the first run: how many runs the matrix has and how many the file already holds. */
  start?(total: number, done: number): void;
  /** After each run: its row, or why it failed. */
  finished?(run: Run, outcome: { row: CsvRow } | { error: string }): void;
  /** Something the user should know (resuming, mixed builds, a cut line). */
  warn?(message: string): void;
  /** After the last run, also when interrupted or failing. */
  end?(): void;
}

export interface MatrixSummary {
  written: number;
  skippedAsDone: number;
  failures: string[];
  interrupted: boolean;
  csv: string;
  json: string;
}

export function sizeLabel(min: number, max: number): string {
  return min === max ? String(min) : `${min}..${max}`;
}

export function runLabel(run: Run): string {
  const what = run.bench === 'fixed' ? `fixed ${run.min} B` : `random-mixed ${sizeLabel(run.min, run.max)}`;
  const threads = run.threads > 1 ? ` ${run.threads} threads` : '';
  return `${what} ${specLabel(run.spec)}${threads} rep ${run.rep}`;
}

export function specLabel(spec: AllocatorSpec): string {
  if (!spec.preset) return spec.allocator;
  return `${spec.allocator}:${spec.preset}${spec.align !== null ? `:align${spec.align}` : ''}`;
}

/** The alignment a hakmem spec runs with: its own, else its preset's. */
function specAlign(spec: AllocatorSpec): HeapAlignment {
  return spec.align ?? presetAlign(spec.preset ?? 'current');
}

/** Every run, repetition-major: each pass measures every cell once, so drift over time hits all cells alike. */
export function planRuns(options: Pick<MatrixOptions, 'reps' | 'allocators' | 'threads'>): Run[] {
  const benches: Array<Pick<Run, 'bench' | 'min' | 'max'>> = [
    ...FIXED_SIZES.map((size) => ({ bench: 'fixed' as const, min: size, max: size })),
    { bench: 'random-mixed', min: MIXED_MIN, max: MIXED_MAX },
  ];
  const runs: Run[] = [];
  for (let rep = 1; rep <= options.reps; rep++) {
    for (const threads of options.threads) {
      for (const b of benches) {
        for (const spec of options.allocators) {
          if (threads === 1 || hasSharedHeap(spec.allocator)) runs.push({ ...b, spec, threads, rep });
        }
      }
    }
  }
  return runs;
}

/** The JS engine's allocation and @thi.ng/malloc have no heap that worker threads can share. */
export function hasSharedHeap(allocator: AllocatorName): boolean {
  return allocator !== 'v8' && allocator !== 'thing';
}

/** What identifies a run in the CSV: its cell and repetition. */
function rowKey(r: Pick<CsvRow, 'bench' | 'size' | 'allocator' | 'preset' | 'build' | 'align' | 'threads' | 'rep'>): string {
  return [r.bench, r.size, r.allocator, r.preset, r.build, r.align, r.threads, r.rep].join('|');
}

function runKey(run: Run, build: BuildMode): string {
  const hakmem = run.spec.allocator === 'hakmem';
  return rowKey({
    bench: run.bench,
    size: sizeLabel(run.min, run.max),
    allocator: run.spec.allocator,
    preset: hakmem ? (run.spec.preset ?? 'current') : '',
    build: hakmem ? build : '',
    align: hakmem ? String(specAlign(run.spec)) : '',
    threads: String(run.threads),
    rep: String(run.rep),
  });
}

/** The bench command line of a run (scripts/bench.ts; bench-process adds --json). */
export function benchArgv(run: Run, options: Pick<MatrixOptions, 'cycles' | 'build'>): string[] {
  const sizes = run.bench === 'fixed' ? ['--size', String(run.min)] : ['--min', String(run.min), '--max', String(run.max)];
  const hakmem =
    run.spec.allocator === 'hakmem'
      ? ['--preset', run.spec.preset ?? 'current', '--build', options.build, '--align', String(specAlign(run.spec))]
      : [];
  return [
    run.bench,
    String(options.cycles),
    String(MATRIX_WS),
    String(MATRIX_SEED),
    ...sizes,
    '--allocator',
    run.spec.allocator,
    ...hakmem,
    ...(run.threads > 1 ? ['--threads', String(run.threads)] : []),
  ];
}

export interface SessionRecord {
  profile: ProfileName;
  threads: number[];
  cycles: number;
  reps: number;
  allocators: string[];
  startedAt: string;
  finishedAt: string | null;
  status: 'running' | 'complete' | 'interrupted' | 'failed';
  rowsWritten: number;
  failures: string[];
  provenance: Provenance;
}

/** OUT.json: the workload, and one record per session that wrote rows. */
export interface MatrixRecord {
  csv: string;
  workload: { ws: number; seed: number; fixedSizes: number[]; mixed: { min: number; max: number } };
  sessions: SessionRecord[];
}

export async function runMatrix(options: MatrixOptions, hooks: MatrixHooks = {}): Promise<MatrixSummary> {
  const csv = `${options.out}.csv`;
  const json = `${options.out}.json`;
  mkdirSync(path.dirname(csv), { recursive: true });
  const warn = hooks.warn ?? (() => {});

  const existing = readRows(csv);
  if (existing.legacy) {
    throw new Error(`${csv} was written before the align column: it still reads (compare, notebooks) but takes no more rows; write to a new --out`);
  }
  if (existing.partialTail) {
    warn(`${csv}: dropping an unfinished last line left by an interrupted run`);
    dropPartialTail(csv);
  }
  checkSameWorkload(csv, existing.rows, options.cycles);
  const checkout = currentCheckout();
  const record = readRecord(json, csv);
  const mismatches = new Set(
    record.sessions
      .filter((s) => s.rowsWritten > 0)
      .map((s) => checkoutMismatch(s.provenance, checkout))
      .filter((m): m is string => m !== null),
  );
  for (const m of mismatches) warn(`${csv} has rows ${m}: the set will mix builds (its commit and dirty columns mark each row)`);

  const done = new Set(existing.rows.map(rowKey));
  const runs = planRuns(options);
  const todo = runs.filter((r) => !done.has(runKey(r, options.build)));
  if (existing.rows.length > 0) warn(`resuming ${csv}: ${runs.length - todo.length} of ${runs.length} runs already there`);

  const hakmemSpecs = options.allocators
    .filter((s) => s.allocator === 'hakmem')
    .map((s) => ({ label: specLabel(s).replace(/^hakmem:/, ''), preset: s.preset ?? 'current', align: specAlign(s) }));
  const session: SessionRecord = {
    profile: options.profile,
    cycles: options.cycles,
    reps: options.reps,
    allocators: options.allocators.map(specLabel),
    threads: [...options.threads],
    startedAt: new Date().toISOString(),
    finishedAt: null,
    status: 'running',
    rowsWritten: 0,
    failures: [],
    provenance: collectProvenance({ presets: hakmemSpecs, build: hakmemSpecs.length ? options.build : null }),
  };
  record.sessions.push(session);
  writeRecord(json, record);

  let current: ChildProcess | null = null;
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    current?.kill('SIGINT');
  };
  process.on('SIGINT', onSigint);
  hooks.start?.(runs.length, runs.length - todo.length);
  try {
    for (const run of todo) {
      if (interrupted) break;
      const child = runBenchProcess(benchArgv(run, options));
      current = child.process;
      const outcome = await child.done;
      current = null;
      if (interrupted) break; // the run was cut short: it is not a result
      if ('error' in outcome) {
        session.failures.push(`${runLabel(run)}: ${outcome.error}`);
        hooks.finished?.(run, outcome);
        continue;
      }
      const row = toRow(outcome.result, run, options.cycles, checkout);
      appendRow(csv, row);
      session.rowsWritten++;
      writeRecord(json, record); // so a crashed session still counts its rows
      hooks.finished?.(run, { row });
    }
  } finally {
    hooks.end?.();
    process.off('SIGINT', onSigint);
    session.finishedAt = new Date().toISOString();
    session.status = interrupted ? 'interrupted' : session.failures.length ? 'failed' : 'complete';
    writeRecord(json, record);
  }
  return {
    written: session.rowsWritten,
    skippedAsDone: runs.length - todo.length,
    failures: session.failures,
    interrupted,
    csv,
    json,
  };
}

/** A set holds one workload: resuming with another run length would mix incomparable rows. */
function checkSameWorkload(csv: string, rows: readonly CsvRow[], cycles: number): void {
  const other = rows.find((r) => r.cycles !== String(cycles) || r.ws !== String(MATRIX_WS) || r.seed !== String(MATRIX_SEED));
  if (other) {
    throw new Error(
      `${csv} holds runs of ${other.cycles} cycles, WS ${other.ws}, seed ${other.seed}; ` +
        `this matrix runs ${cycles} cycles, WS ${MATRIX_WS}, seed ${MATRIX_SEED}: choose another --out`,
    );
  }
}

function toRow(r: BenchResult, run: Run, cycles: number, checkout: ReturnType<typeof currentCheckout>): CsvRow {
  const f = r.fingerprint;
  const cell = (v: number | string | null) => (v === null ? '' : String(v));
  return {
    bench: r.bench,
    size: sizeLabel(run.min, run.max),
    min: String(run.min),
    max: String(run.max),
    cycles: String(cycles),
    ws: String(MATRIX_WS),
    seed: String(MATRIX_SEED),
    allocator: r.allocator,
    preset: cell(r.preset),
    build: cell(r.build),
    align: cell(r.align),
    configHash: cell(r.configHash),
    threads: String(r.threads),
    rep: String(run.rep),
    ops: cell(r.ops),
    seconds: cell(r.seconds),
    opsPerSec: cell(r.opsPerSec),
    peakLiveBytes: cell(r.peakLiveBytes),
    peakHeapBytes: cell(r.peakHeapBytes),
    fingerprint: f ? `${f.mallocs}/${f.frees}/${f.bytes}/${f.hash}` : '',
    skipped: cell(r.skipped),
    commit: checkout.commit ?? '',
    dirty: String(checkout.dirty),
  };
}

function readRecord(json: string, csv: string): MatrixRecord {
  if (existsSync(json)) {
    const record = JSON.parse(readFileSync(json, 'utf8')) as MatrixRecord;
    if (!Array.isArray(record.sessions)) throw new Error(`${json}: not a matrix provenance record`);
    return record;
  }
  return {
    csv: path.basename(csv),
    workload: { ws: MATRIX_WS, seed: MATRIX_SEED, fixedSizes: [...FIXED_SIZES], mixed: { min: MIXED_MIN, max: MIXED_MAX } },
    sessions: [],
  };
}

/** Written aside and renamed, so a crash mid-write leaves the previous record whole. */
function writeRecord(json: string, record: MatrixRecord): void {
  const tmp = `${json}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, json);
}
