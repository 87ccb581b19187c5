/**
 * larson SECONDS MIN MAX CHUNKS ROUNDS SEED THREADS: Paul Larson's server benchmark (larson.ts,
 * scripts/native/larson.c), time-bounded; hakmem runs every thread in a worker on one shared heap.
 */
import { createTsAllocator } from '../adapters/index';
import { isNativeAllocator } from '../adapters/allocators';
import { isSkipped, runNative } from '../native/run-native';
import { measured, skippedFields, withHeapHint } from '../result-fields';
import type { BenchResult } from '../runner';
import { larson, type LarsonWorkload } from './larson';
import { MAX_BLOCK_SIZE, SIZE_BOUNDS, THREADS_BOUNDS } from './random-mixed.workload';
import { UsageError, checkThreads, expectCount, positiveDecimal, whole } from './workload-args';
import type { ParseInput, ParsedArgs, RunContext, Workload } from './workload';

export interface LarsonArgs extends LarsonWorkload {
  seconds: number;
}

const MAX_SECONDS = 1e6;
const CHUNKS_BOUNDS = [1, 2 ** 26] as const;
const ROUNDS_BOUNDS = [1, 2 ** 32 - 1] as const;
const SEED_BOUNDS = [0, 2 ** 31 - 1] as const;

export const larsonWorkload: Workload<LarsonArgs> = {
  name: 'larson',
  synopsis: 'SECONDS MIN MAX CHUNKS ROUNDS SEED THREADS',
  description:
    'hakmem runs each thread in a worker on one shared heap;\n' +
    "larson's hand-off to a new thread is modelled as a new\n" +
    'thread identity (detach + attach) in the same pooled\n' +
    'worker, since a Worker takes milliseconds to start',
  args: [],
  refusedOptions: { threads: 'larson takes its thread count as THREADS, its 7th argument, not --threads' },
  parse: parseLarson,
  run: runLarson,
};

function parseLarson({ positionals: rest, allocator }: ParseInput): ParsedArgs<LarsonArgs> {
  expectCount('larson', rest, ['SECONDS', 'MIN', 'MAX', 'CHUNKS', 'ROUNDS', 'SEED', 'THREADS']);
  const min = whole('MIN', rest[1], SIZE_BOUNDS);
  const args: LarsonArgs = {
    seconds: positiveDecimal('SECONDS', rest[0], MAX_SECONDS),
    min,
    max: whole('MAX', rest[2], [min, MAX_BLOCK_SIZE]),
    chunks: whole('CHUNKS', rest[3], CHUNKS_BOUNDS),
    rounds: whole('ROUNDS', rest[4], ROUNDS_BOUNDS),
    seed: whole('SEED', rest[5], SEED_BOUNDS),
    threads: whole('THREADS', rest[6], THREADS_BOUNDS),
  };
  if (args.chunks * args.threads > CHUNKS_BOUNDS[1]) {
    throw new UsageError(`CHUNKS * THREADS must be at most ${CHUNKS_BOUNDS[1]}`);
  }
  checkThreads(allocator, args.threads, 'larson with THREADS > 1');
  return { args, threads: args.threads };
}

async function runLarson({ request, base }: RunContext): Promise<BenchResult> {
  const { allocator, threads } = request;
  const a = request.args as LarsonArgs;
  if (isNativeAllocator(allocator)) {
    const r = await runNative(allocator, 'larson', [a.seconds, a.min, a.max, a.chunks, a.rounds, a.seed, a.threads]);
    if (isSkipped(r)) return { ...base(null), ...skippedFields(r.skipped) };
    return { ...base(null), ...measured(r, null, null) };
  }
  const heapOptions = { preset: request.preset, build: request.build, align: request.align };
  if (allocator === 'hakmem') {
    // Always on worker threads: larson's remote frees and hand-offs are the point, also with one thread.
    const { larsonThreads } = await import('../threads/run-threads');
    const r = await larsonThreads(heapOptions, { ...a, generations: Infinity });
    const h = { preset: r.stats.preset, build: r.stats.build, align: r.stats.align, configHash: r.stats.configHash };
    return { ...base(h), ...measured(r, null, r.stats.residentBytes) };
  }
  const ts = await createTsAllocator(allocator, { ...heapOptions, slots: a.chunks, maxSize: a.max });
  const r = withHeapHint(ts.hakmem, () =>
    larson(ts.allocator, { min: a.min, max: a.max, chunks: a.chunks, rounds: a.rounds, seed: a.seed, threads, stop: { seconds: a.seconds } }),
  );
  return { ...base(ts.hakmem), ...measured(r, null, ts.peakHeapBytes()) };
}
