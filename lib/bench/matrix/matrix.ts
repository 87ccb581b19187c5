/**
 * The benchmark matrix: allocators x benchmarks (fixed 128/256/512/1024 and
 * random-mixed 16..1024; with more than one thread also cross-thread 16..1024,
 * where every free is remote) x thread counts x JS engines x repetitions, or one
 * shard of it (shards.ts). Each repetition is a fresh child process of its
 * engine running `scripts/bench.ts --json` (the warm-up happens inside it),
 * so V8's type feedback and the heap start clean and stay monomorphic.
 *
 * Rows go to OUT.csv as each run finishes (lib/bench/matrix/results-csv.ts), so an
 * interrupted matrix keeps what it measured and the same command resumes it;
 * OUT.json holds the provenance of every session that wrote to the set.
 */
import type { ChildProcess } from 'node:child_process';
import { runBenchProcess, type ChildOutcome } from '../bench-process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { BuildMode } from '../../alloc/config';
import { presetAlign, type PresetName } from '../../alloc/presets';
import type { HeapAlignment } from '../../alloc/size-classes';
import { hasSharedHeap, type AllocatorName } from '../adapters/allocators';
import { collectProvenance, currentCheckout, checkoutMismatch, type Provenance } from './provenance';
import { appendRow, dropPartialTail, readRows, writeRows, type CsvRow } from './results-csv';
import { shardItems, shardLabel, type Shard } from './shards';
import { skippedResult, type BenchResult } from '../runner';
import { parseBenchArgs, type BenchRequest } from '../cli-args';
import { RUNNING_NODE, type Engine } from '../engines/engines';
import { pinOf, resolveEngine } from '../engines/install';
import { readManifest } from '../../trace/bundle';
import { isNativeAllocator, type TsAllocatorName } from '../adapters/allocators';
import { findWorkload, suiteWorkloads } from '../workloads/registry';
import { tsUnavailable } from '../workloads/run-declared';
import { suiteArgv, type SuiteArgs } from '../workloads/workload';

interface Profile {
  cycles: number;
  reps: number;
  /** replay: timed passes over each trace (--loops). */
  loops: number;
  allocators?: string;
  /** replay: the bundled traces replayed (default all of data/traces). */
  traces?: readonly string[];
  /** Set: the profile runs the registry's suite workloads (with these of their arguments) instead of the benches. */
  suite?: keyof SuiteArgs;
}

export const PROFILES: Readonly<Record<'quick' | 'full' | 'tiny' | 'suite' | 'suite-tiny', Profile>> = {
  /** About 16 minutes on 2 cores (every allocator, each replay warmed up for 16M ops). Five reps: with three, a rank-sum test can never reach p < 0.05. */
  quick: { cycles: 2_000_000, reps: 5, loops: 3 },
  /** The seed's standard run length (10M-20M cycles: short runs measure cold start); replays of about a second. */
  full: { cycles: 20_000_000, reps: 7, loops: 20 },
  /** Seconds, not a measurement: for trying a command, a job-runner recipe or a test. */
  tiny: { cycles: 20_000, reps: 1, loops: 1, allocators: 'hakmem,system', traces: ['git-log'] },
  /** Every suite workload (the allocator stress tests) on every allocator, arguments scaled to this machine (WORKLOADS.md). */
  suite: { cycles: 0, reps: 7, loops: 0, suite: 'default' },
  /** The suite at tiny arguments: seconds in all, for CI and tests. */
  'suite-tiny': { cycles: 0, reps: 1, loops: 0, suite: 'tiny', allocators: 'hakmem,system' },
};
export type ProfileName = keyof typeof PROFILES;

/** The seed's standard workload. */
export const MATRIX_WS = 400;
export const MATRIX_SEED = 1;
export const FIXED_SIZES = [128, 256, 512, 1024] as const;
export const MIXED_MIN = 16;
export const MIXED_MAX = 1024;
export const MATRIX_BENCHES = ['fixed', 'random-mixed', 'cross-thread', 'replay'] as const;
export type MatrixBench = (typeof MATRIX_BENCHES)[number];

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
  /** JS engines (lib/bench/engines): each cell runs on every one. */
  engines: readonly string[];
  /**
   * The benches measured (default all): fixed at each of FIXED_SIZES, random-mixed MIXED_MIN..MIXED_MAX,
   * cross-thread (above 1 thread), replay of each trace (1 thread).
   */
  benches?: readonly MatrixBench[];
  /** replay: the traces (names in data/traces/manifest.json) and the timed passes over each. */
  traces: readonly string[];
  loops: number;
  /** Run only this slice of the plan (shards.ts); null: all of it. */
  shard: Shard | null;
  /** Set by the suite profiles: the registry's suite workloads at these arguments, instead of `benches`. */
  suite?: keyof SuiteArgs | null;
  /** Where pinned engines are installed (default .cache/engines). */
  engineCache?: string;
}

/** One repetition of one cell. */
export interface Run {
  /** A matrix bench, or a suite workload's name. */
  bench: MatrixBench | string;
  /** Block sizes; replay: 0, its sizes are the trace's. */
  min: number;
  max: number;
  /** replay: the bundled trace's name; null for the other benches. */
  trace: string | null;
  /** A suite workload's positionals; null for the benches. */
  args?: readonly string[] | null;
  spec: AllocatorSpec;
  threads: number;
  engine: string;
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

/** A run's size column: the block size, the size range, replay's trace, or a suite workload's arguments. */
export function runSize(run: Run): string {
  if (run.args) return run.args.join(' ');
  return run.trace ?? sizeLabel(run.min, run.max);
}

export function runLabel(run: Run): string {
  const what = run.bench === 'fixed' ? `fixed ${run.min} B` : `${run.bench} ${runSize(run)}`;
  const threads = run.threads > 1 ? ` ${run.threads} threads` : '';
  const engine = run.engine !== RUNNING_NODE ? ` on ${run.engine}` : '';
  return `${what} ${specLabel(run.spec)}${threads}${engine} rep ${run.rep}`;
}

export function specLabel(spec: AllocatorSpec): string {
  if (!spec.preset) return spec.allocator;
  return `${spec.allocator}:${spec.preset}${spec.align !== null ? `:align${spec.align}` : ''}`;
}

/** The alignment a hakmem spec runs with: its own, else its preset's. */
function specAlign(spec: AllocatorSpec): HeapAlignment {
  return spec.align ?? presetAlign(spec.preset ?? 'current');
}

/**
 * A cell's allocators in the order repetition `rep` runs them: as listed on odd repetitions, reversed
 * on even ones, so no allocator always runs first (or right after the same neighbour) and its
 * ratios to the others, paired by repetition, do not carry the position's bias.
 */
function inRepOrder<T>(allocators: readonly T[], rep: number): readonly T[] {
  return rep % 2 === 1 ? allocators : [...allocators].reverse();
}

/**
 * Every run, repetition-major: each pass measures every cell once, so drift over time hits all cells
 * alike; within a cell the allocators alternate their order by repetition (inRepOrder).
 * Engines default to the running node; a shard keeps its cells' runs (shards.ts).
 */
export function planRuns(
  options: Pick<MatrixOptions, 'reps' | 'allocators' | 'threads'> &
    Partial<Pick<MatrixOptions, 'engines' | 'shard' | 'benches' | 'traces' | 'suite'>>,
): Run[] {
  if (options.suite) return planSuiteRuns({ ...options, suite: options.suite });
  const wanted: readonly string[] = options.benches ?? MATRIX_BENCHES;
  const common: Array<Pick<Run, 'bench' | 'min' | 'max' | 'trace'>> = [
    ...FIXED_SIZES.map((size) => ({ bench: 'fixed' as const, min: size, max: size, trace: null })),
    { bench: 'random-mixed' as const, min: MIXED_MIN, max: MIXED_MAX, trace: null },
  ];
  // A ring needs two workers: cross-thread runs in the cells of more than one thread. Traces are
  // replayed serialized on one thread: replay runs in the cells of one.
  const single = [...common, ...(options.traces ?? []).map((trace) => ({ bench: 'replay' as const, min: 0, max: 0, trace }))];
  const threaded = [...common, { bench: 'cross-thread' as const, min: MIXED_MIN, max: MIXED_MAX, trace: null }];
  const benches = single.filter((b) => wanted.includes(b.bench));
  const ring = threaded.filter((b) => wanted.includes(b.bench));
  const runs: Run[] = [];
  const engines = options.engines ?? [RUNNING_NODE];
  for (let rep = 1; rep <= options.reps; rep++) {
    for (const threads of options.threads) {
      for (const engine of engines) {
        for (const b of threads > 1 ? ring : benches) {
          for (const spec of inRepOrder(options.allocators, rep)) {
            if (b.bench === 'replay' && !replaysInMatrix(spec.allocator)) continue;
            if (threads === 1 || hasSharedHeap(spec.allocator)) runs.push({ ...b, spec, threads, engine, rep });
          }
        }
      }
    }
  }
  return options.shard ? shardItems<Run>(runs, cellOf, options.shard) : runs;
}

/**
 * The suite profiles: every suite workload at the profile's arguments, on every allocator listed (a
 * cell the allocator cannot run becomes a skipped row saying why: cannotRun), repetition-major.
 */
function planSuiteRuns(
  options: Pick<MatrixOptions, 'reps' | 'allocators'> & Partial<Pick<MatrixOptions, 'engines' | 'shard'>> & { suite: keyof SuiteArgs },
): Run[] {
  const runs: Run[] = [];
  for (let rep = 1; rep <= options.reps; rep++) {
    for (const engine of options.engines ?? [RUNNING_NODE]) {
      for (const w of suiteWorkloads()) {
        const args = suiteArgv(w, options.suite);
        const threads = w.threads?.(Object.fromEntries(w.args.map((a, i) => [a.key, Number(args[i])]))) ?? 1;
        for (const spec of inRepOrder(options.allocators, rep)) {
          runs.push({ bench: w.name, min: 0, max: 0, trace: null, args, spec, threads, engine, rep });
        }
      }
    }
  }
  return options.shard ? shardItems<Run>(runs, cellOf, options.shard) : runs;
}

/** Why a suite run's allocator cannot run its workload (no C harness, no TypeScript run, no shared heap), or null. */
export function cannotRun(run: Run): string | null {
  const w = run.args ? findWorkload(run.bench) : undefined;
  if (!w) return null;
  if (isNativeAllocator(run.spec.allocator)) return w.native ? null : `${w.name} has no C harness`;
  const why = tsUnavailable(w, run.spec.allocator as TsAllocatorName);
  if (why !== null) return why;
  if (run.threads > 1 && !hasSharedHeap(run.spec.allocator)) return `${w.name} runs ${run.threads} threads: ${run.spec.allocator} has no heap threads can share`;
  return null;
}

/** A cell: what every allocator is measured on side by side, the system baseline included. */
export function cellOf(r: { bench: string; size: string; threads: string | number; engine: string } | Run): string {
  const size = 'spec' in r ? runSize(r) : r.size;
  return [r.bench, size, r.threads, r.engine].join('|');
}

/**
 * @thi.ng/malloc is left out of the matrix's replay cells: its first-fit search makes one pass over a
 * 1M-op trace take some 30 s, and on python3-json-regex it hands out a block overlapping a live one
 * (the replay's byte checks stop it). `npm run bench -- replay FILE --allocator thing` still runs it.
 */
export function replaysInMatrix(allocator: AllocatorName): boolean {
  return allocator !== 'thing';
}

/** What identifies a run in the CSV: its cell, allocator and repetition. */
export function rowKey(
  r: Pick<CsvRow, 'bench' | 'size' | 'allocator' | 'preset' | 'build' | 'align' | 'threads' | 'engine' | 'rep'>,
): string {
  return [r.bench, r.size, r.allocator, r.preset, r.build, r.align, r.threads, r.engine, r.rep].join('|');
}

export function runKey(run: Run, build: BuildMode): string {
  const hakmem = run.spec.allocator === 'hakmem';
  return rowKey({
    bench: run.bench,
    size: runSize(run),
    allocator: run.spec.allocator,
    preset: hakmem ? (run.spec.preset ?? 'current') : '',
    build: hakmem ? build : '',
    align: hakmem ? String(specAlign(run.spec)) : '',
    threads: String(run.threads),
    engine: run.engine,
    rep: String(run.rep),
  });
}

/** A bundled trace's file, by its name in data/traces/manifest.json. */
export function traceFile(name: string): string {
  const trace = readManifest().find((t) => t.name === name);
  if (!trace) throw new Error(`no trace '${name}' in data/traces/manifest.json`);
  return trace.path;
}

/** The bench command line of a run (scripts/bench.ts; bench-process adds --json). */
export function benchArgv(run: Run, options: Pick<MatrixOptions, 'cycles' | 'build' | 'loops'>): string[] {
  const hakmem =
    run.spec.allocator === 'hakmem'
      ? ['--preset', run.spec.preset ?? 'current', '--build', options.build, '--align', String(specAlign(run.spec))]
      : [];
  if (run.trace !== null) {
    return ['replay', traceFile(run.trace), '--loops', String(options.loops), '--allocator', run.spec.allocator, ...hakmem];
  }
  if (run.args) return [run.bench, ...run.args, '--allocator', run.spec.allocator, ...hakmem];
  const sizes = run.bench === 'fixed' ? ['--size', String(run.min)] : ['--min', String(run.min), '--max', String(run.max)];
  // cross-thread takes its workers as THREADS (each allocates CYCLES blocks); the others as --threads.
  const ring = run.bench === 'cross-thread';
  return [
    run.bench,
    String(options.cycles),
    String(MATRIX_WS),
    String(MATRIX_SEED),
    ...(ring ? [String(run.threads)] : []),
    ...sizes,
    '--allocator',
    run.spec.allocator,
    ...hakmem,
    ...(run.threads > 1 && !ring ? ['--threads', String(run.threads)] : []),
  ];
}

export interface SessionRecord {
  profile: ProfileName;
  threads: number[];
  cycles: number;
  reps: number;
  allocators: string[];
  /** Absent in sets written before engines and shards: node, build release, no shard. */
  engines?: string[];
  benches?: MatrixBench[];
  /** Absent in sets written before replay was in the matrix: no traces. */
  traces?: string[];
  loops?: number;
  build?: BuildMode;
  shard?: Shard | null;
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
  workload: { ws: number; seed: number; fixedSizes: number[]; mixed: { min: number; max: number }; replayLoops?: number };
  sessions: SessionRecord[];
  /** A merged set (merge.ts): each shard, where it came from and the machine that measured it. */
  merged?: { shard: Shard; source: string; machine: string }[];
}

export async function runMatrix(options: MatrixOptions, hooks: MatrixHooks = {}): Promise<MatrixSummary> {
  const csv = `${options.out}.csv`;
  const json = `${options.out}.json`;
  mkdirSync(path.dirname(csv), { recursive: true });
  const warn = hooks.warn ?? (() => {});

  const existing = readRows(csv);
  if (existing.partialTail) {
    warn(`${csv}: dropping an unfinished last line left by an interrupted run`);
    dropPartialTail(csv);
  }
  checkSameWorkload(csv, existing.rows, options);
  const checkout = currentCheckout();
  const record = readRecord(json, csv, options.loops);
  checkSameShard(json, record, options.shard);
  if (existing.legacy) {
    warn(`${csv}: written before the align or engine columns; rewriting it with them (its hakmem rows had align 1, its rows ran on node)`);
    writeRows(csv, existing.rows);
  }
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
  if (options.shard) {
    const cells = new Set(runs.map(cellOf)).size;
    const all = new Set(planRuns({ ...options, shard: null }).map(cellOf)).size;
    warn(`shard ${shardLabel(options.shard)}: ${cells} of ${all} cells, ${runs.length} runs`);
  }
  if (existing.rows.length > 0) warn(`resuming ${csv}: ${runs.length - todo.length} of ${runs.length} runs already there`);
  const engines = resolveEngines(options.engines, options.engineCache, warn);

  const hakmemSpecs = options.allocators
    .filter((s) => s.allocator === 'hakmem')
    .map((s) => ({ label: specLabel(s).replace(/^hakmem:/, ''), preset: s.preset ?? 'current', align: specAlign(s) }));
  const session: SessionRecord = {
    profile: options.profile,
    cycles: options.cycles,
    reps: options.reps,
    allocators: options.allocators.map(specLabel),
    threads: [...options.threads],
    engines: [...options.engines],
    benches: [...(options.benches ?? MATRIX_BENCHES)],
    traces: [...options.traces],
    loops: options.loops,
    build: options.build,
    shard: options.shard,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    status: 'running',
    rowsWritten: 0,
    failures: [],
    provenance: collectProvenance({
      presets: hakmemSpecs,
      build: hakmemSpecs.length ? options.build : null,
      engines: Object.fromEntries(
        [...engines].map(([name, e]) => [name, 'engine' in e ? `${e.engine.runtime} ${e.engine.version}` : `skipped: ${e.skipped}`]),
      ),
    }),
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
  const runChild = async (run: Run, engine: Engine): Promise<ChildOutcome> => {
    const child = runBenchProcess(benchArgv(run, options), {}, engine);
    current = child.process;
    const outcome = await child.done;
    current = null;
    return outcome;
  };
  hooks.start?.(runs.length, runs.length - todo.length);
  try {
    for (const run of todo) {
      if (interrupted) break;
      const engine = engines.get(run.engine) as EngineOutcome;
      const unrunnable = cannotRun(run);
      const outcome: ChildOutcome =
        unrunnable !== null
          ? { result: engineSkipped(run, options, unrunnable) }
          : 'skipped' in engine
            ? { result: engineSkipped(run, options, engine.skipped) }
            : await runChild(run, engine.engine);
      if (interrupted) break; // the run was cut short: it is not a result
      if ('error' in outcome) {
        session.failures.push(`${runLabel(run)}: ${outcome.error}`);
        hooks.finished?.(run, outcome);
        continue;
      }
      const row = toRow(outcome.result, run, options, checkout);
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

type EngineOutcome = { engine: Engine } | { skipped: string };

/** Each engine ready to run (installed on first use), or why it cannot: its runs become skipped rows. */
function resolveEngines(names: readonly string[], cacheDir: string | undefined, warn: (m: string) => void): Map<string, EngineOutcome> {
  const engines = new Map<string, EngineOutcome>();
  for (const name of names) {
    const r = resolveEngine(name, {
      cacheDir,
      onInstall: (pin) => warn(`installing ${pin.name} (${pin.package}@${pin.version}) into .cache/engines`),
    });
    if ('skipped' in r) warn(`engine ${name} is not available, its runs are skipped: ${r.skipped}`);
    engines.set(name, r);
  }
  return engines;
}

/** The row of a run that cannot run here: its engine is missing, or its allocator cannot run its workload. */
function engineSkipped(run: Run, options: Pick<MatrixOptions, 'cycles' | 'build' | 'loops'>, reason: string): BenchResult {
  // The request exactly as the bench would have parsed it, so the row carries its arguments.
  if (run.args) {
    // A suite cell its allocator cannot run would not parse for it (threads without a shared heap).
    const parsed = parseBenchArgs([run.bench, ...run.args], {}) as BenchRequest;
    const request = { ...parsed, allocator: run.spec.allocator, preset: run.spec.preset ?? undefined, engine: run.engine };
    return skippedResult(request, run.engine, run.engine === RUNNING_NODE ? process.versions.node : pinOf(run.engine).version, reason);
  }
  const request = parseBenchArgs([...benchArgv(run, options), '--engine', run.engine], {}) as BenchRequest;
  return skippedResult(request, run.engine, pinOf(run.engine).version, reason);
}

/** A shard's set holds that shard alone: another slice's runs would not be recognised as done. */
function checkSameShard(json: string, record: MatrixRecord, shard: Shard | null): void {
  const label = (s: Shard | null | undefined) => (s ? `shard ${shardLabel(s)}` : 'the whole plan');
  const other = record.sessions.find((s) => s.rowsWritten > 0 && label(s.shard) !== label(shard));
  if (other) throw new Error(`${json} holds ${label(other.shard)}; this matrix runs ${label(shard)}: choose another --out`);
}

/** The workload columns of a run's row: replay's loops go in `cycles`; it has no WS or seed. */
function workloadCells(bench: string, options: Pick<MatrixOptions, 'cycles' | 'loops'>): Pick<CsvRow, 'cycles' | 'ws' | 'seed'> {
  // A suite workload's arguments are its size column.
  if (!(MATRIX_BENCHES as readonly string[]).includes(bench)) return { cycles: '', ws: '', seed: '' };
  return bench === 'replay'
    ? { cycles: String(options.loops), ws: '', seed: '' }
    : { cycles: String(options.cycles), ws: String(MATRIX_WS), seed: String(MATRIX_SEED) };
}

/** A set holds one workload: resuming with another run length would mix incomparable rows. */
function checkSameWorkload(csv: string, rows: readonly CsvRow[], options: Pick<MatrixOptions, 'cycles' | 'loops'>): void {
  const describe = (bench: string, w: Pick<CsvRow, 'cycles' | 'ws' | 'seed'>) =>
    bench === 'replay' ? `replays of ${w.cycles} loops` : `runs of ${w.cycles} cycles, WS ${w.ws}, seed ${w.seed}`;
  for (const r of rows) {
    const want = workloadCells(r.bench, options);
    if (r.cycles !== want.cycles || r.ws !== want.ws || r.seed !== want.seed) {
      throw new Error(`${csv} holds ${describe(r.bench, r)}; this matrix runs ${describe(r.bench, want)}: choose another --out`);
    }
  }
}

function toRow(
  r: BenchResult,
  run: Run,
  options: Pick<MatrixOptions, 'cycles' | 'loops'>,
  checkout: ReturnType<typeof currentCheckout>,
): CsvRow {
  const f = r.fingerprint;
  const cell = (v: number | string | null | undefined) => (v === null || v === undefined ? '' : String(v));
  const replay = run.trace !== null || !!run.args;
  return {
    bench: r.bench,
    size: runSize(run),
    min: replay ? '' : String(run.min),
    max: replay ? '' : String(run.max),
    ...workloadCells(run.bench, options),
    allocator: r.allocator,
    preset: cell(r.preset),
    build: cell(r.build),
    align: cell(r.align),
    configHash: cell(r.configHash),
    // The plan's thread count, the row's key: a multi-threaded trace's replay reports its recorded threads
    // (on hakmem and the native allocators) but is one cell with the allocators that replay it serialized.
    threads: String(run.threads),
    engine: run.engine,
    engineVersion: r.engineVersion,
    rep: String(run.rep),
    ops: cell(r.ops),
    seconds: cell(r.seconds),
    opsPerSec: cell(r.opsPerSec),
    peakLiveBytes: cell(r.peakLiveBytes),
    peakHeapBytes: cell(r.peakHeapBytes),
    peakFootprintBytes: cell(r.peakFootprintBytes),
    utilization: cell(r.utilization),
    footprintByStatsBytes: cell(r.footprintByStats?.bytes),
    harnessNsPerOp: cell(r.harnessNsPerOp),
    allocatorNsPerOp: cell(r.allocatorNsPerOp),
    harnessBestPassNsPerOp: cell(r.harnessBestPassNsPerOp),
    allocatorBestPassNsPerOp: cell(r.allocatorBestPassNsPerOp),
    fingerprint: f ? `${f.mallocs}/${f.frees}/${f.bytes}/${f.hash}` : '',
    skipped: cell(r.skipped),
    commit: checkout.commit ?? '',
    dirty: String(checkout.dirty),
  };
}

function readRecord(json: string, csv: string, loops: number): MatrixRecord {
  if (existsSync(json)) {
    const record = JSON.parse(readFileSync(json, 'utf8')) as MatrixRecord;
    if (!Array.isArray(record.sessions)) throw new Error(`${json}: not a matrix provenance record`);
    return record;
  }
  return {
    csv: path.basename(csv),
    workload: {
      ws: MATRIX_WS,
      seed: MATRIX_SEED,
      fixedSizes: [...FIXED_SIZES],
      mixed: { min: MIXED_MIN, max: MIXED_MAX },
      replayLoops: loops,
    },
    sessions: [],
  };
}

/** Written aside and renamed, so a crash mid-write leaves the previous record whole. */
function writeRecord(json: string, record: MatrixRecord): void {
  const tmp = `${json}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, json);
}
