/**
 * What a workload declares, once, for everything that lists or runs benchmarks: the bench command
 * line and its --help (lib/bench/cli-args.ts), the runner (lib/bench/runner.ts), the matrix's suite
 * profile (lib/bench/matrix) and the notebooks. Every workload is one `NAME.workload.ts` file beside
 * its loop, listed once in registry.ts. How to add one: WORKLOADS.md, "Adding a workload".
 *
 * A workload either declares its parts and lets the shared runner put them together (`ts`, `native`:
 * the stress tests), or runs itself (`run`: random-mixed, larson, replay, whose results carry more).
 */
import type { AllocatorName } from '../adapters/allocators';
import type { ReplayAllocator } from '../adapters/allocator-adapter';
import type { HakmemConfig } from '../adapters/index';
import type { BenchRequest } from '../cli-args';
import type { BenchResult, ResultBase } from '../runner';
import type { Fingerprint, LoopResult } from './random-mixed';

/** One positional argument: `NAME` in the usage, `key` in the parsed args object. */
export interface ArgSpec {
  readonly name: string;
  readonly key: string;
  /** One line for --help. */
  readonly help: string;
  /** Inclusive bounds of the whole number. */
  readonly min: number;
  readonly max: number;
  /** Taken when the argument is left out; absent: required. Only trailing arguments may have one. */
  readonly default?: number;
}

/** The options beyond the positionals that only some workloads take; each workload lists its own. */
export type BenchOption = 'min' | 'max' | 'size' | 'threads' | 'loops' | 'timeline' | 'latency' | 'breakdown' | 'serial';

/** What a workload's own parser reads (the common options are already checked). */
export interface ParseInput {
  positionals: readonly string[];
  options: Partial<Record<BenchOption, string | boolean>>;
  env: Record<string, string | undefined>;
  allocator: AllocatorName;
  /** --timeline K, or null. */
  timeline: number | null;
}

export interface ParsedArgs<A> {
  args: A;
  /** Threads the run uses (above 1 needs a heap worker threads share). */
  threads: number;
}

/** A workload that runs itself gets the request and the result's leading fields. */
export interface RunContext {
  request: BenchRequest;
  base(hakmem: HakmemConfig | null): ResultBase;
}

/** Single-threaded in TypeScript, on any in-process allocator (hakmem, v8, thing, the wasm builds). */
export interface SingleThreadRun<A> {
  readonly kind: 'single';
  /**
   * At most `slots` blocks live at once, none above `maxSize` bytes: sizes thing's pool; `heapBytes`:
   * hakmem's heap, where the default (64 MiB) is too small.
   */
  sizing(args: A): { slots: number; maxSize: number; heapBytes?: number };
  /** The warm-up (untimed) and the measured loop; `seconds` covers the measured loop only. */
  run<P>(a: ReplayAllocator<P>, args: A): LoopResult;
}

/**
 * Threaded in TypeScript: one worker thread per thread, all on one shared hakmem heap
 * (lib/bench/threads/run-workload-threads.ts). `worker` runs inside each worker thread, which finds it
 * through the registry by the workload's name: it must use only its arguments and what it imports.
 */
export interface ThreadedRun<A> {
  readonly kind: 'threads';
  /** The shared heap's size in bytes for these arguments (every thread's live blocks, with slack). */
  heapBytes(args: A): number;
  /** Shared memory every worker sees (queues, exchange slots), made before they start; absent: none. */
  shared?(args: A): SharedArrayBuffer;
  /**
   * Worker `ctx.index`'s part: its untimed warm-up, then `ctx.start()` (the barrier: the clock starts
   * when every worker has reached it), then the measured work. Returns the worker's fingerprint; the
   * run's is the sum over workers (hash summed mod 2^32).
   */
  worker(ctx: ThreadContext<A>): Fingerprint;
  /** The run's op count from its summed fingerprint (what one op is: WORKLOADS.md, per workload). */
  ops(args: A, sum: Fingerprint): number;
}

export interface ThreadContext<A> {
  /** hakmem, attached to the shared heap as this worker's thread. */
  allocator: ReplayAllocator<number>;
  index: number;
  threads: number;
  args: A;
  shared: SharedArrayBuffer | null;
  /** Waits at the start barrier. */
  start(): void;
  /**
   * This worker as a new thread: the current identity leaves the heap (its caches flushed, as at
   * thread exit) and a fresh one attaches; returns the allocator to use from now on. For workloads
   * whose C harness ends threads and starts new ones (a Worker costs milliseconds to start).
   */
  renew(): ReplayAllocator<number>;
}

/** The C harness: scripts/native/HARNESS.c, built by lib/build, run under each LD_PRELOAD allocator. */
export interface NativeRun<A> {
  readonly harness: string;
  /** Its command line for these arguments (WORKLOADS.md, "Native harness command lines"). */
  argv(args: A): (string | number)[];
}

/** The arguments of the matrix's suite profiles (positionals, in order): scaled to the machine, and tiny for CI. */
export interface SuiteArgs {
  readonly default: readonly number[];
  readonly tiny: readonly number[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface Workload<A extends object = any> {
  readonly name: string;
  /** For --help, after the synopsis: one line, or a few separated by \n. */
  readonly description: string;
  /** The positionals, checked by their bounds; a workload with `parse` may leave them empty. */
  readonly args: readonly ArgSpec[];
  /** The usage's synopsis when `args` does not describe the positionals (replay's FILE). */
  readonly synopsis?: string;
  /** Options beyond the positionals this workload takes. */
  readonly options?: readonly BenchOption[];
  /** Options it refuses with a message of its own, instead of "--X applies to ... only". */
  readonly refusedOptions?: Partial<Record<BenchOption, string>>;
  /** Its own parser, instead of `args` + `check` + `threads`. */
  parse?(input: ParseInput): ParsedArgs<A>;
  /** A problem across arguments (each is already within its bounds), or null. */
  check?(args: A): string | null;
  /** Threads a run of these arguments uses; default 1. */
  threads?(args: A): number;
  readonly ts?: SingleThreadRun<A> | ThreadedRun<A>;
  readonly native?: NativeRun<A>;
  /**
   * The fingerprint these arguments must produce, computed without allocating; the runner checks
   * every run against it. Absent where the work depends on timing (larson by seconds).
   */
  fingerprint?(args: A): Fingerprint;
  /** How a result names the work (`fixed 64 B`); default the workload's name. */
  label?(args: A): string;
  /** Listed in the matrix's suite profiles, with their arguments. */
  readonly suite?: SuiteArgs;
  /** Runs the request itself (instead of `ts` and `native`). */
  run?(ctx: RunContext): Promise<BenchResult>;
}

/** The workload's positionals for a suite profile, as command-line text. */
export function suiteArgv(w: Workload, profile: keyof SuiteArgs): string[] {
  if (!w.suite) throw new Error(`${w.name} is not in the suite`);
  return w.suite[profile].map(String);
}
