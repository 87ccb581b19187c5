/**
 * The bench command line (`npm run bench -- <bench> <args...> [options]`),
 * parsed and checked into a BenchRequest. Every mistake becomes a UsageError
 * naming the problem; scripts/bench.ts prints it with the usage and exits 2.
 */
import { parseArgs } from 'node:util';
import type { BuildMode } from '../alloc/config';
import { PRESET_NAMES, isPresetName, type PresetName } from '../alloc/presets';
import { HEAP_ALIGNMENTS, type HeapAlignment } from '../alloc/size-classes';
import { ALLOCATORS, isAllocatorName, type AllocatorName } from './adapters/allocators';
import type { LarsonWorkload } from './workloads/larson';

export const BENCHES = ['random-mixed', 'fixed', 'larson'] as const;
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

interface RequestBase {
  allocator: AllocatorName;
  /** hakmem only; unset means the heap's default. */
  preset?: PresetName;
  build?: BuildMode;
  /** hakmem only: the heap's block alignment; unset means the preset's (HAKMEM_ALIGN, else 1; aligned: 16). */
  align?: HeapAlignment;
  threads: number;
  json: boolean;
}

export type BenchRequest =
  | (RequestBase & { bench: 'random-mixed' | 'fixed'; args: RandomMixedArgs })
  | (RequestBase & { bench: 'larson'; args: LarsonArgs });

export type BenchCommand = BenchRequest | { help: true };

export class UsageError extends Error {
  readonly exitCode = 2;
}

/** Sizes when neither --min/--max nor the environment says otherwise (the seed's). */
export const DEFAULT_MIN_SIZE = 16;
export const DEFAULT_MAX_SIZE = 1024;

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

options:
  --allocator NAME   ${ALLOCATORS.join(', ')} (default hakmem)
  --preset NAME      hakmem preset: ${PRESET_NAMES.join(', ')}
                     (default: HAKMEM_PRESET, else current)
  --build MODE       hakmem build: release or debug (default: HAKMEM_BUILD, else release)
  --align N          hakmem block alignment: 1 (the 1-byte header), 8 or 16 (header-free
                     blocks; presets current and aligned) (default: HAKMEM_ALIGN, else the
                     preset's: 16 for aligned, 1 for the others)
  --min N, --max N   random-mixed block sizes
  --size N           fixed block size
  --threads N        random-mixed/fixed copies run at once, each in its own thread (default 1)
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
  CHUNKS: [1, 2 ** 26],
  ROUNDS: [1, 2 ** 32 - 1],
  LARSON_SEED: [0, 2 ** 31 - 1],
} as const;
const MAX_LARSON_SECONDS = 1e6;

const OPTIONS = {
  allocator: { type: 'string' },
  preset: { type: 'string' },
  build: { type: 'string' },
  align: { type: 'string' },
  min: { type: 'string' },
  max: { type: 'string' },
  size: { type: 'string' },
  threads: { type: 'string' },
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
  if (o.align !== undefined && !(HEAP_ALIGNMENTS as readonly number[]).includes(Number(o.align))) {
    throw new UsageError(`--align must be 1, 8 or 16, got '${o.align}'`);
  }
  const base = {
    allocator,
    preset: o.preset as PresetName | undefined,
    build: o.build as BuildMode | undefined,
    align: o.align === undefined ? undefined : (Number(o.align) as HeapAlignment),
    json: o.json ?? false,
  };
  const onlyFor = (flag: 'min' | 'max' | 'size' | 'threads', benches: string) => {
    if (o[flag] !== undefined) throw new UsageError(`--${flag} applies to ${benches} only`);
  };

  if (bench === 'larson') {
    for (const flag of ['min', 'max', 'size'] as const) onlyFor(flag, 'random-mixed and fixed');
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

  expectCount(bench, rest, ['CYCLES', 'WS', 'SEED']);
  let min: number;
  let max: number;
  if (bench === 'fixed') {
    onlyFor('min', 'random-mixed');
    onlyFor('max', 'random-mixed');
    if (o.size === undefined) throw new UsageError('fixed needs --size N');
    min = max = whole('--size', o.size, LIMITS.SIZE);
  } else {
    onlyFor('size', 'fixed');
    min = whole(
      o.min !== undefined ? '--min' : 'HAKMEM_BENCH_MIN_SIZE',
      o.min ?? env.HAKMEM_BENCH_MIN_SIZE ?? String(DEFAULT_MIN_SIZE),
      LIMITS.SIZE,
    );
    max = whole(
      o.max !== undefined ? '--max' : 'HAKMEM_BENCH_MAX_SIZE',
      o.max ?? env.HAKMEM_BENCH_MAX_SIZE ?? String(DEFAULT_MAX_SIZE),
      [min, MAX_SIZE],
    );
  }
  const threads = o.threads === undefined ? 1 : whole('--threads', o.threads, LIMITS.THREADS);
  checkThreads(allocator, threads, `${bench} with --threads > 1`);
  const args: RandomMixedArgs = {
    cycles: whole('CYCLES', rest[0], LIMITS.CYCLES),
    ws: whole('WS', rest[1], LIMITS.WS),
    seed: whole('SEED', rest[2], LIMITS.SEED),
    min,
    max,
  };
  return { ...base, bench, threads, args };
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
  if (threads > 1 && (allocator === 'v8' || allocator === 'thing')) {
    throw new UsageError(
      `${what} needs an allocator whose heap worker threads can share: ` +
        `hakmem or a native one (${allocator} has no shared heap)`,
    );
  }
}
