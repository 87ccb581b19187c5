/**
 * The bench command line (`npm run bench -- <bench> <args...> [options]`),
 * parsed and checked into a BenchRequest. Every mistake becomes a UsageError
 * naming the problem; scripts/bench.ts prints it with the usage and exits 2.
 */
import { parseArgs } from 'node:util';
import type { BuildMode } from '../alloc/config';
import { PRESET_NAMES, isPresetName, type PresetName } from '../alloc/presets';
import { HEAP_ALIGNMENTS, type HeapAlignment } from '../alloc/size-classes';
import { ALLOCATORS, hasSharedHeap, isAllocatorName, isWasmAllocator, WASM_ALLOCATORS, type AllocatorName } from './adapters/allocators';
import type { CrossThreadParams } from './workloads/cross-thread';
import type { LarsonWorkload } from './workloads/larson';
import { ENGINES, RUNNING_NODE, isEngineName } from './engines/engines';

export const BENCHES = ['random-mixed', 'fixed', 'larson', 'cross-thread', 'replay'] as const;
export type BenchName = (typeof BENCHES)[number];

export function isBenchName(name: string): name is BenchName {
  return (BENCHES as readonly string[]).includes(name);
}

/** random-mixed and fixed (min = max = size). */
export interface RandomMixedArgs {
  cycles: number;
  ws: number;
  seed: number;
  min: number;
  max: number;
}

export interface LarsonArgs extends LarsonWorkload {
  seconds: number;
}

/** replay FILE: an allocation trace (text or binary, gzipped or not), replayed `loops` times. */
export interface ReplayArgs {
  file: string;
  loops: number;
}

interface RequestBase {
  allocator: AllocatorName;
  /** hakmem only; unset means the heap's default. */
  preset?: PresetName;
  build?: BuildMode;
  /** hakmem only: the heap's block alignment; unset means the preset's (HAKMEM_ALIGN, else 1; aligned: 16). */
  align?: HeapAlignment;
  threads: number;
  /** The JS engine to run on: `node` (the running one) or a pinned engine (engines.json). */
  engine: string;
  json: boolean;
  /** random-mixed, fixed, replay: sample memory every this many ops, in a pass of its own; null = no timeline. */
  timeline: number | null;
  /** replay: time every op, in passes of their own. */
  latency: boolean;
  /** replay on hakmem: time per op kind and tier, in a pass of its own. */
  breakdown?: boolean;
}

export type CrossThreadArgs = CrossThreadParams;

export type BenchRequest =
  | (RequestBase & { bench: 'random-mixed' | 'fixed'; args: RandomMixedArgs })
  | (RequestBase & { bench: 'larson'; args: LarsonArgs })
  | (RequestBase & { bench: 'cross-thread'; args: CrossThreadArgs })
  | (RequestBase & { bench: 'replay'; args: ReplayArgs });

export type BenchCommand = BenchRequest | { help: true };

export class UsageError extends Error {
  readonly exitCode = 2;
}

/** Sizes when neither --min/--max nor the environment says otherwise (the seed's). */
export const DEFAULT_MIN_SIZE = 16;
export const DEFAULT_MAX_SIZE = 1024;

/** random-mixed's timeline replays its ops as a trace held in memory (24 bytes an op). */
export const MAX_TIMELINE_CYCLES = 2 ** 24;

export const USAGE = `usage: npm run bench -- <bench> <args...> [options]

benches:
  random-mixed CYCLES WS SEED        sizes --min..--max (default ${DEFAULT_MIN_SIZE}..${DEFAULT_MAX_SIZE},
                                     or HAKMEM_BENCH_MIN_SIZE / HAKMEM_BENCH_MAX_SIZE)
  fixed CYCLES WS SEED --size N      random-mixed with every block N bytes
  larson SECONDS MIN MAX CHUNKS ROUNDS SEED THREADS
                                     hakmem runs each thread in a worker on one shared heap;
                                     larson's hand-off to a new thread is modelled as a new
                                     thread identity (detach + attach) in the same pooled
                                     worker, since a Worker takes milliseconds to start
  cross-thread CYCLES WS SEED THREADS
                                     THREADS (>= 2) workers in a ring: each allocates CYCLES
                                     blocks (sizes --min..--max) and hands every one to the
                                     next through a ring of WS blocks; every free is remote
  replay FILE [--loops N]            replays an allocation trace (text or binary .hktrace, gzipped
                                     or not) N times (default 1), timed; first a footprint pass
                                     (peak footprint, whole blocks written) and a warm-up pass.
                                     JSON adds peakLiveBytes, peakFootprintBytes, utilization

options:
  --allocator NAME   ${ALLOCATORS.join(', ')} (default hakmem);
                     ${WASM_ALLOCATORS.join(', ')}: WebAssembly builds of wasi-libc's dlmalloc
                     and emscripten's emmalloc and dlmalloc, built into .cache/wasm on first use
                     (skipped, with the reason, where clang-14/wasi-libc or emscripten are missing);
                     one thread only: no shared-memory build
  --preset NAME      hakmem preset: ${PRESET_NAMES.join(', ')}
                     (default: HAKMEM_PRESET, else current)
  --build MODE       hakmem build: release or debug (default: HAKMEM_BUILD, else release)
  --align N          hakmem block alignment: 1 (the 1-byte header), 8 or 16 (header-free
                     blocks; presets current and aligned) (default: HAKMEM_ALIGN, else the
                     preset's: 16 for aligned, 1 for the others)
  --min N, --max N   random-mixed and cross-thread block sizes
  --size N           fixed block size
  --threads N        random-mixed/fixed copies run at once, each in its own thread (default 1)
  --engine NAME      JS engine: ${ENGINES.join(', ')} (default ${RUNNING_NODE}, the node
                     running this command); a pinned engine (engines.json) is installed from
                     the npm registry into .cache/engines on first use; one that cannot be
                     installed or run is reported as skipped, with the reason
  --loops N          replay: passes over the trace, timed (default 1)
  --timeline K       random-mixed, fixed, replay: live bytes and footprint every K ops, in a pass
                     of its own (random-mixed/fixed: CYCLES at most ${MAX_TIMELINE_CYCLES})
  --latency          replay: also time every op (own passes) and report p50..p99.99 and max per op kind
  --breakdown        replay on hakmem: also time every op (a pass of its own) and report the time per
                     op kind and tier (tiny, mid, large; realloc in place or moved) and the frees per route
  --json             print one JSON object instead of a line
  --help             this text
`;

// Bounds as the C harnesses check them (scripts/native), so both accept the same runs.
const MAX_SIZE = 2 ** 30 - 1;
const LIMITS = {
  CYCLES: [1, 2 ** 43],
  WS: [1, 2 ** 31 - 1],
  SEED: [0, 2 ** 32 - 1],
  SIZE: [1, MAX_SIZE],
  THREADS: [1, 1024],
  RING_THREADS: [2, 1024],
  RING_WS: [1, 2 ** 24],
  CHUNKS: [1, 2 ** 26],
  ROUNDS: [1, 2 ** 32 - 1],
  LARSON_SEED: [0, 2 ** 31 - 1],
  TIMELINE: [1, 2 ** 53 - 1],
} as const;
const MAX_LARSON_SECONDS = 1e6;
/** The C replayer's bound. */
const MAX_LOOPS = 1_000_000;

const OPTIONS = {
  allocator: { type: 'string' },
  preset: { type: 'string' },
  build: { type: 'string' },
  align: { type: 'string' },
  min: { type: 'string' },
  max: { type: 'string' },
  size: { type: 'string' },
  threads: { type: 'string' },
  engine: { type: 'string' },
  loops: { type: 'string' },
  timeline: { type: 'string' },
  latency: { type: 'boolean' },
  breakdown: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

/** `argv` without node and the script; `env` supplies HAKMEM_BENCH_MIN_SIZE / _MAX_SIZE. */
export function parseBenchArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): BenchCommand {
  // parseArgs would read "-5" as an unknown option; say what is really wrong.
  const negative = argv.find((a) => /^-\d/.test(a));
  if (negative !== undefined) throw new UsageError(`arguments must not be negative, got '${negative}'`);
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: o, positionals } = parsed;
  if (o.help) return { help: true };

  const [bench, ...rest] = positionals;
  if (bench === undefined) throw new UsageError('no bench given');
  if (!isBenchName(bench)) {
    throw new UsageError(`unknown bench '${bench}' (expected one of ${BENCHES.join(', ')})`);
  }

  const allocator = o.allocator ?? 'hakmem';
  if (!isAllocatorName(allocator)) {
    throw new UsageError(`unknown allocator '${allocator}' (expected one of ${ALLOCATORS.join(', ')})`);
  }
  if (allocator !== 'hakmem') {
    for (const flag of ['preset', 'build', 'align'] as const) {
      if (o[flag] !== undefined) throw new UsageError(`--${flag} applies to --allocator hakmem only`);
    }
  }
  if (o.preset !== undefined && !isPresetName(o.preset)) {
    throw new UsageError(`unknown preset '${o.preset}' (expected one of ${PRESET_NAMES.join(', ')})`);
  }
  if (o.build !== undefined && o.build !== 'release' && o.build !== 'debug') {
    throw new UsageError(`unknown build '${o.build}' (expected release or debug)`);
  }
  const engine = o.engine ?? RUNNING_NODE;
  if (!isEngineName(engine)) throw new UsageError(`unknown engine '${engine}' (expected one of ${ENGINES.join(', ')})`);
  const onlyFor = (flag: 'min' | 'max' | 'size' | 'threads' | 'loops' | 'timeline' | 'latency' | 'breakdown', benches: string) => {
    if (o[flag] !== undefined) throw new UsageError(`--${flag} applies to ${benches} only`);
  };
  if (bench !== 'replay') {
    onlyFor('loops', 'replay');
    onlyFor('latency', 'replay');
    onlyFor('breakdown', 'replay');
  }
  if (o.breakdown && allocator !== 'hakmem') throw new UsageError("--breakdown applies to --allocator hakmem only (the tiers are hakmem's)");
  if (bench === 'larson') onlyFor('timeline', 'random-mixed, fixed and replay');
  if (o.align !== undefined && !(HEAP_ALIGNMENTS as readonly number[]).includes(Number(o.align))) {
    throw new UsageError(`--align must be 1, 8 or 16, got '${o.align}'`);
  }
  const base = {
    allocator,
    engine,
    preset: o.preset as PresetName | undefined,
    build: o.build as BuildMode | undefined,
    align: o.align === undefined ? undefined : (Number(o.align) as HeapAlignment),
    json: o.json ?? false,
    timeline: o.timeline === undefined ? null : whole('--timeline K', o.timeline, LIMITS.TIMELINE),
    latency: o.latency ?? false,
    breakdown: o.breakdown ?? false,
  };

  if (bench === 'replay') {
    for (const flag of ['min', 'max', 'size', 'threads'] as const) onlyFor(flag, 'random-mixed and fixed');
    if (rest.length !== 1) {
      throw new UsageError(`replay takes 1 argument (FILE), got ${rest.length}` + (rest.length ? `: ${rest.join(' ')}` : ''));
    }
    const loops = o.loops === undefined ? 1 : whole('--loops', o.loops, [1, MAX_LOOPS]);
    return { ...base, bench, threads: 1, args: { file: rest[0], loops } };
  }

  if (bench === 'larson') {
    for (const flag of ['min', 'max'] as const) onlyFor(flag, 'random-mixed and cross-thread');
    onlyFor('size', 'fixed');
    if (o.threads !== undefined) {
      throw new UsageError('larson takes its thread count as THREADS, its 7th argument, not --threads');
    }
    expectCount(bench, rest, ['SECONDS', 'MIN', 'MAX', 'CHUNKS', 'ROUNDS', 'SEED', 'THREADS']);
    const min = whole('MIN', rest[1], LIMITS.SIZE);
    const args: LarsonArgs = {
      seconds: seconds(rest[0]),
      min,
      max: whole('MAX', rest[2], [min, MAX_SIZE]),
      chunks: whole('CHUNKS', rest[3], LIMITS.CHUNKS),
      rounds: whole('ROUNDS', rest[4], LIMITS.ROUNDS),
      seed: whole('SEED', rest[5], LIMITS.LARSON_SEED),
      threads: whole('THREADS', rest[6], LIMITS.THREADS),
    };
    if (args.chunks * args.threads > LIMITS.CHUNKS[1]) {
      throw new UsageError(`CHUNKS * THREADS must be at most ${LIMITS.CHUNKS[1]}`);
    }
    checkThreads(allocator, args.threads, 'larson with THREADS > 1');
    return { ...base, bench, threads: args.threads, args };
  }

  if (bench === 'cross-thread') {
    onlyFor('size', 'fixed');
    if (o.threads !== undefined) {
      throw new UsageError('cross-thread takes its thread count as THREADS, its 4th argument, not --threads');
    }
    expectCount(bench, rest, ['CYCLES', 'WS', 'SEED', 'THREADS']);
    const threads = whole('THREADS', rest[3], LIMITS.RING_THREADS);
    checkThreads(allocator, threads, 'cross-thread');
    const args: CrossThreadArgs = {
      cycles: whole('CYCLES', rest[0], LIMITS.CYCLES),
      ws: whole('WS', rest[1], LIMITS.RING_WS),
      seed: whole('SEED', rest[2], LIMITS.SEED),
      ...sizeRange(o, env),
      threads,
    };
    return { ...base, bench, threads, args };
  }

  expectCount(bench, rest, ['CYCLES', 'WS', 'SEED']);
  let min: number;
  let max: number;
  if (bench === 'fixed') {
    onlyFor('min', 'random-mixed and cross-thread');
    onlyFor('max', 'random-mixed and cross-thread');
    if (o.size === undefined) throw new UsageError('fixed needs --size N');
    min = max = whole('--size', o.size, LIMITS.SIZE);
  } else {
    onlyFor('size', 'fixed');
    ({ min, max } = sizeRange(o, env));
  }
  const threads = o.threads === undefined ? 1 : whole('--threads', o.threads, LIMITS.THREADS);
  checkThreads(allocator, threads, `${bench} with --threads > 1`);
  if (base.timeline !== null && threads > 1) throw new UsageError('--timeline runs one copy of the loop: not with --threads > 1');
  const args: RandomMixedArgs = {
    cycles: whole('CYCLES', rest[0], base.timeline === null ? LIMITS.CYCLES : [1, MAX_TIMELINE_CYCLES]),
    ws: whole('WS', rest[1], LIMITS.WS),
    seed: whole('SEED', rest[2], LIMITS.SEED),
    min,
    max,
  };
  return { ...base, bench, threads, args };
}

/** --min and --max, else the environment, else the defaults. */
function sizeRange(o: { min?: string; max?: string }, env: Record<string, string | undefined>): { min: number; max: number } {
  const min = whole(
    o.min !== undefined ? '--min' : 'HAKMEM_BENCH_MIN_SIZE',
    o.min ?? env.HAKMEM_BENCH_MIN_SIZE ?? String(DEFAULT_MIN_SIZE),
    LIMITS.SIZE,
  );
  const max = whole(
    o.max !== undefined ? '--max' : 'HAKMEM_BENCH_MAX_SIZE',
    o.max ?? env.HAKMEM_BENCH_MAX_SIZE ?? String(DEFAULT_MAX_SIZE),
    [min, MAX_SIZE],
  );
  return { min, max };
}

function expectCount(bench: string, got: readonly string[], names: readonly string[]): void {
  if (got.length !== names.length) {
    throw new UsageError(
      `${bench} takes ${names.length} arguments (${names.join(' ')}), got ${got.length}` +
        (got.length ? `: ${got.join(' ')}` : ''),
    );
  }
}

/** A whole decimal number within [lo, hi], else a UsageError naming `name`. */
function whole(name: string, text: string, [lo, hi]: readonly [number, number]): number {
  if (!/^\d+$/.test(text) || Number(text) < lo || Number(text) > hi) {
    throw new UsageError(`${name} must be a whole number from ${lo} to ${hi}, got '${text}'`);
  }
  return Number(text);
}

function seconds(text: string): number {
  const v = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(v > 0 && v <= MAX_LARSON_SECONDS)) {
    throw new UsageError(`SECONDS must be a number above 0 and at most ${MAX_LARSON_SECONDS}, got '${text}'`);
  }
  return v;
}

/** Threads need a heap that workers share: hakmem's shared heap or a native allocator. */
function checkThreads(allocator: AllocatorName, threads: number, what: string): void {
  if (threads > 1 && !hasSharedHeap(allocator)) {
    const build = isWasmAllocator(allocator) ? ': no shared-memory build' : '';
    throw new UsageError(
      `${what} needs an allocator whose heap worker threads can share: ` +
        `hakmem or a native one (${allocator} has no shared heap${build})`,
    );
  }
}
