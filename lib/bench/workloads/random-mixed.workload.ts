/**
 * random-mixed CYCLES WS SEED and fixed CYCLES WS SEED --size N (random-mixed with every block N
 * bytes): the seed's loop (random-mixed.ts, scripts/native/random-mixed.c), with --threads copies on
 * a shared heap and --timeline from a replay of its requests.
 */
import { createTsAllocator } from '../adapters/index';
import { isNativeAllocator } from '../adapters/allocators';
import type { BenchRequest } from '../cli-args';
import { isSkipped, runNative } from '../native/run-native';
import { measured, skippedFields, withHeapHint } from '../result-fields';
import type { BenchResult } from '../runner';
import type { TimelineSample } from '../measures/timeline';
import { benchRandomMixed, type LoopResult } from './random-mixed';
import { checkedRandomMixedReplay } from './random-mixed-replay';
import { UsageError, checkThreads, expectCount, whole } from './workload-args';
import type { ParseInput, ParsedArgs, RunContext, Workload } from './workload';

/** random-mixed and fixed (min = max = size). */
export interface RandomMixedArgs {
  cycles: number;
  ws: number;
  seed: number;
  min: number;
  max: number;
}

/** Sizes when neither --min/--max nor the environment says otherwise (the seed's). */
export const DEFAULT_MIN_SIZE = 16;
export const DEFAULT_MAX_SIZE = 1024;

/** random-mixed's timeline replays its ops as a trace held in memory (24 bytes an op). */
export const MAX_TIMELINE_CYCLES = 2 ** 24;

// Bounds as the C harness checks them, so both accept the same runs.
export const MAX_BLOCK_SIZE = 2 ** 30 - 1;
export const SIZE_BOUNDS = [1, MAX_BLOCK_SIZE] as const;
export const SEED_BOUNDS = [0, 2 ** 32 - 1] as const;
export const CYCLES_BOUNDS = [1, 2 ** 43] as const;
export const WS_BOUNDS = [1, 2 ** 31 - 1] as const;
export const THREADS_BOUNDS = [1, 1024] as const;

const POSITIONALS = ['CYCLES', 'WS', 'SEED'];

export const randomMixedWorkload: Workload<RandomMixedArgs> = {
  name: 'random-mixed',
  synopsis: 'CYCLES WS SEED',
  description:
    `sizes --min..--max (default ${DEFAULT_MIN_SIZE}..${DEFAULT_MAX_SIZE},\n` +
    'or HAKMEM_BENCH_MIN_SIZE / HAKMEM_BENCH_MAX_SIZE)',
  args: [],
  options: ['min', 'max', 'threads', 'timeline'],
  parse: (input) => parseLoop('random-mixed', input),
  run: runRandomMixed,
};

export const fixedWorkload: Workload<RandomMixedArgs> = {
  name: 'fixed',
  synopsis: 'CYCLES WS SEED --size N',
  description: 'random-mixed with every block N bytes',
  args: [],
  options: ['size', 'threads', 'timeline'],
  parse: (input) => parseLoop('fixed', input),
  label: (a) => `fixed ${a.min} B`,
  run: runRandomMixed,
};

function parseLoop(bench: 'random-mixed' | 'fixed', { positionals, options: o, env, allocator, timeline }: ParseInput): ParsedArgs<RandomMixedArgs> {
  expectCount(bench, positionals, POSITIONALS);
  const { min, max } = loopSizes(bench === 'fixed', o, env);
  const threads = o.threads === undefined ? 1 : whole('--threads', o.threads as string, THREADS_BOUNDS);
  checkThreads(allocator, threads, `${bench} with --threads > 1`);
  if (timeline !== null && threads > 1) throw new UsageError('--timeline runs one copy of the loop: not with --threads > 1');
  const args: RandomMixedArgs = {
    cycles: whole('CYCLES', positionals[0], timeline === null ? CYCLES_BOUNDS : [1, MAX_TIMELINE_CYCLES]),
    ws: whole('WS', positionals[1], WS_BOUNDS),
    seed: whole('SEED', positionals[2], SEED_BOUNDS),
    min,
    max,
  };
  return { args, threads };
}

/** The loop's sizes: fixed's --size, or random-mixed's range (sizeRange). */
export function loopSizes(fixed: boolean, o: ParseInput['options'], env: ParseInput['env']): { min: number; max: number } {
  if (!fixed) return sizeRange(o, env);
  if (o.size === undefined) throw new UsageError('fixed needs --size N');
  const size = whole('--size', o.size as string, SIZE_BOUNDS);
  return { min: size, max: size };
}

/** --min and --max, else the environment, else the defaults. */
export function sizeRange(o: ParseInput['options'], env: Record<string, string | undefined>): { min: number; max: number } {
  const min = whole(
    o.min !== undefined ? '--min' : 'HAKMEM_BENCH_MIN_SIZE',
    (o.min as string | undefined) ?? env.HAKMEM_BENCH_MIN_SIZE ?? String(DEFAULT_MIN_SIZE),
    SIZE_BOUNDS,
  );
  const max = whole(
    o.max !== undefined ? '--max' : 'HAKMEM_BENCH_MAX_SIZE',
    (o.max as string | undefined) ?? env.HAKMEM_BENCH_MAX_SIZE ?? String(DEFAULT_MAX_SIZE),
    [min, MAX_BLOCK_SIZE],
  );
  return { min, max };
}

async function runRandomMixed({ request, base }: RunContext): Promise<BenchResult> {
  const { allocator, threads } = request;
  const a = request.args as RandomMixedArgs;
  if (isNativeAllocator(allocator)) {
    const r = await runNative(allocator, 'random-mixed', [a.cycles, a.ws, a.seed, a.min, a.max, threads]);
    if (isSkipped(r)) return { ...base(null), ...skippedFields(r.skipped) };
    return { ...base(null), ...measured(r, checkedPeakLive(a, threads, r, allocator), null), ...(await timelineOf(request, a)) };
  }
  const heapOptions = { preset: request.preset, build: request.build, align: request.align };
  if (threads > 1) {
    // Only hakmem gets here (checkThreads): copies on one shared heap, each in a worker.
    const { randomMixedThreads } = await import('../threads/run-threads');
    const r = await randomMixedThreads(heapOptions, { ...a, threads });
    const h = { preset: r.stats.preset, build: r.stats.build, align: r.stats.align, configHash: r.stats.configHash };
    return { ...base(h), ...measured(r, null, r.stats.residentBytes) };
  }
  const ts = await createTsAllocator(allocator as Exclude<typeof allocator, 'system'>, { ...heapOptions, slots: a.ws, maxSize: a.max });
  const r = withHeapHint(ts.hakmem, () => benchRandomMixed(ts.allocator, a.cycles, a.ws, a.seed, a.min, a.max));
  const peakLiveBytes = checkedPeakLive(a, threads, r, allocator);
  return { ...base(ts.hakmem), ...measured(r, peakLiveBytes, ts.peakHeapBytes()), ...(await timelineOf(request, a)) };
}

/** --timeline K: the loop's requests replayed as a trace on a fresh allocator, sampled. */
async function timelineOf(request: BenchRequest, a: RandomMixedArgs): Promise<{ timeline?: TimelineSample[] }> {
  if (request.timeline === null) return {};
  const { randomMixedTimeline } = await import('../replay-runner');
  return { timeline: await randomMixedTimeline(request, a, request.timeline) };
}

/**
 * The workload's peak live bytes, from a replay of its RNG (untimed), which
 * also proves the run did the specified work: its fingerprint must match.
 * With threads, each copy runs its own seed, so there is no single replay.
 */
function checkedPeakLive(a: RandomMixedArgs, threads: number, r: LoopResult, allocator: string): number | null {
  if (threads !== 1) return null;
  return checkedRandomMixedReplay(a.cycles, a.ws, a.seed, a.min, a.max, r.fingerprint, allocator).peakLiveBytes;
}
