/**
 * The bench command line (`npm run bench -- <bench> <args...> [options]`),
 * parsed and checked into a BenchRequest. The benches, their arguments and
 * their usage lines come from the workload registry (lib/bench/workloads/registry.ts);
 * this file checks the options they share. Every mistake becomes a UsageError
 * naming the problem; scripts/bench.ts prints it with the usage and exits 2.
 */
import { parseArgs } from 'node:util';
import type { BuildMode } from '../alloc/config';
import { PRESET_NAMES, isPresetName, type PresetName } from '../alloc/presets';
import { HEAP_ALIGNMENTS, type HeapAlignment } from '../alloc/size-classes';
import { ALLOCATORS, isAllocatorName, WASM_ALLOCATORS, type AllocatorName } from './adapters/allocators';
import { ENGINES, RUNNING_NODE, isEngineName } from './engines/engines';
import type { CrossThreadArgs } from './workloads/cross-thread.workload';
import type { LarsonArgs } from './workloads/larson.workload';
import { DEFAULT_MAX_SIZE, DEFAULT_MIN_SIZE, MAX_TIMELINE_CYCLES, type RandomMixedArgs } from './workloads/random-mixed.workload';
import { WORKLOADS, WORKLOAD_NAMES, findWorkload } from './workloads/registry';
import type { ReplayArgs } from './workloads/replay.workload';
import type { BenchOption, Workload } from './workloads/workload';
import { UsageError, checkThreads, parsePositionals, synopsisOf, whole } from './workloads/workload-args';

export { UsageError } from './workloads/workload-args';
export type { CrossThreadArgs, LarsonArgs, RandomMixedArgs, ReplayArgs };
export { DEFAULT_MAX_SIZE, DEFAULT_MIN_SIZE, MAX_TIMELINE_CYCLES };

/** The registered workloads' names. */
export const BENCHES = WORKLOAD_NAMES;
export type BenchName = string;

export function isBenchName(name: string): name is BenchName {
  return findWorkload(name) !== undefined;
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

/** A run of one registered workload; the variants name the args of the workloads that run themselves. */
export type BenchRequest =
  | (RequestBase & { bench: 'random-mixed' | 'fixed'; args: RandomMixedArgs })
  | (RequestBase & { bench: 'larson'; args: LarsonArgs })
  | (RequestBase & { bench: 'cross-thread'; args: CrossThreadArgs })
  | (RequestBase & { bench: 'replay'; args: ReplayArgs })
  /** A workload declared by its positionals (the stress tests): args by their keys. */
  | (RequestBase & { bench: string; args: Record<string, number> });

export type BenchCommand = BenchRequest | { help: true };

/** Where a bench's description starts in the usage, as the synopses are padded. */
const DESCRIPTION_COLUMN = 37;

function usageEntry(w: Workload): string {
  const synopsis = `  ${w.name} ${w.synopsis ?? synopsisOf(w.args)}`;
  const indent = ' '.repeat(DESCRIPTION_COLUMN);
  const lines = [...w.description.split('\n'), ...w.args.map(argHelp)];
  const head = synopsis.length < DESCRIPTION_COLUMN - 1 ? synopsis.padEnd(DESCRIPTION_COLUMN) + lines.shift() : synopsis;
  return [head, ...lines.map((l) => indent + l)].join('\n');
}

function argHelp(a: Workload['args'][number]): string {
  const range = `${a.min}..${a.max}`;
  return `  ${a.name}: ${a.help} (${a.default === undefined ? range : `default ${a.default}, ${range}`})`;
}

export const USAGE = `usage: npm run bench -- <bench> <args...> [options]

benches:
${WORKLOADS.map(usageEntry).join('\n')}

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
  --min N, --max N   ${takers('min')} block sizes
  --size N           ${takers('size')} block size
  --threads N        ${takers('threads')} copies run at once, each in its own thread (default 1)
  --engine NAME      JS engine: ${ENGINES.join(', ')} (default ${RUNNING_NODE}, the node
                     running this command); a pinned engine (engines.json) is installed from
                     the npm registry into .cache/engines on first use; one that cannot be
                     installed or run is reported as skipped, with the reason
  --loops N          ${takers('loops')}: passes over the trace, timed (default 1)
  --timeline K       ${takers('timeline')}: live bytes and footprint every K ops, in a pass
                     of its own (random-mixed/fixed: CYCLES at most ${MAX_TIMELINE_CYCLES})
  --latency          ${takers('latency')}: also time every op (own passes) and report p50..p99.99 and max per op kind
  --breakdown        ${takers('breakdown')} on hakmem: also time every op (a pass of its own) and report the time per
                     op kind and tier (tiny, mid, large; realloc in place or moved) and the frees per route
  --serial           ${takers('serial')}: a multi-threaded trace's ops in recorded order on one thread, instead
                     of each recorded thread on a thread of its own (hakmem: workers on one shared heap;
                     native: pthreads); --timeline, --latency and --breakdown need it for such a trace
  --json             print one JSON object instead of a line
  --help             this text
`;

/** The workloads that take an option, as "a, b and c". */
function takers(option: BenchOption): string {
  const names = WORKLOADS.filter((w) => w.options?.includes(option)).map((w) => w.name);
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

const TIMELINE_BOUNDS = [1, 2 ** 53 - 1] as const;

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
  serial: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

const BENCH_OPTIONS: readonly BenchOption[] = ['min', 'max', 'size', 'threads', 'loops', 'timeline', 'latency', 'breakdown', 'serial'];

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
  const workload = findWorkload(bench);
  if (workload === undefined) {
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
  for (const flag of BENCH_OPTIONS) {
    if (o[flag] === undefined || workload.options?.includes(flag)) continue;
    throw new UsageError(workload.refusedOptions?.[flag] ?? `--${flag} applies to ${takers(flag)} only`);
  }
  if (o.breakdown && allocator !== 'hakmem') throw new UsageError("--breakdown applies to --allocator hakmem only (the tiers are hakmem's)");
  if (o.align !== undefined && !(HEAP_ALIGNMENTS as readonly number[]).includes(Number(o.align))) {
    throw new UsageError(`--align must be 1, 8 or 16, got '${o.align}'`);
  }
  const timeline = o.timeline === undefined ? null : whole('--timeline K', o.timeline, TIMELINE_BOUNDS);
  const base = {
    allocator,
    engine,
    preset: o.preset as PresetName | undefined,
    build: o.build as BuildMode | undefined,
    align: o.align === undefined ? undefined : (Number(o.align) as HeapAlignment),
    json: o.json ?? false,
    timeline,
    latency: o.latency ?? false,
    breakdown: o.breakdown ?? false,
  };
  const { args, threads } = workload.parse
    ? workload.parse({ positionals: rest, options: o, env, allocator, timeline })
    : parseDeclared(workload, rest, allocator);
  return { ...base, bench, threads, args } as BenchRequest;
}

/** A workload declared by its positionals: each within its bounds, then its own check, then its threads. */
function parseDeclared(w: Workload, rest: readonly string[], allocator: AllocatorName): { args: Record<string, number>; threads: number } {
  const args = parsePositionals(w.name, w.args, rest);
  const problem = w.check?.(args) ?? null;
  if (problem !== null) throw new UsageError(`${w.name}: ${problem}`);
  const threads = w.threads?.(args) ?? 1;
  checkThreads(allocator, threads, `${w.name} with ${threads} threads`);
  if (w.ts === undefined && w.native === undefined) throw new Error(`workload ${w.name} declares neither a TypeScript run nor a C harness`);
  return { args, threads };
}
