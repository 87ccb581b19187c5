/**
 * cross-thread CYCLES WS SEED THREADS: workers in a ring, every free remote (cross-thread.ts,
 * scripts/native/cross-thread.c); hakmem runs them as worker threads on one shared heap.
 */
import { isNativeAllocator } from '../adapters/allocators';
import { isSkipped, runNative } from '../native/run-native';
import { measured, skippedFields } from '../result-fields';
import type { BenchResult } from '../runner';
import type { CrossThreadParams } from './cross-thread';
import { CYCLES_BOUNDS, SEED_BOUNDS, sizeRange } from './random-mixed.workload';
import { checkThreads, expectCount, whole } from './workload-args';
import type { ParseInput, ParsedArgs, RunContext, Workload } from './workload';

export type CrossThreadArgs = CrossThreadParams;

const RING_THREADS_BOUNDS = [2, 1024] as const;
const RING_WS_BOUNDS = [1, 2 ** 24] as const;

export const crossThreadWorkload: Workload<CrossThreadArgs> = {
  name: 'cross-thread',
  synopsis: 'CYCLES WS SEED THREADS',
  description:
    'THREADS (>= 2) workers in a ring: each allocates CYCLES\n' +
    'blocks (sizes --min..--max) and hands every one to the\n' +
    'next through a ring of WS blocks; every free is remote',
  args: [],
  options: ['min', 'max'],
  refusedOptions: { threads: 'cross-thread takes its thread count as THREADS, its 4th argument, not --threads' },
  parse: parseCrossThread,
  run: runCrossThread,
};

function parseCrossThread({ positionals: rest, options, env, allocator }: ParseInput): ParsedArgs<CrossThreadArgs> {
  expectCount('cross-thread', rest, ['CYCLES', 'WS', 'SEED', 'THREADS']);
  const threads = whole('THREADS', rest[3], RING_THREADS_BOUNDS);
  checkThreads(allocator, threads, 'cross-thread');
  const args: CrossThreadArgs = {
    cycles: whole('CYCLES', rest[0], CYCLES_BOUNDS),
    ws: whole('WS', rest[1], RING_WS_BOUNDS),
    seed: whole('SEED', rest[2], SEED_BOUNDS),
    ...sizeRange(options, env),
    threads,
  };
  return { args, threads };
}

async function runCrossThread({ request, base }: RunContext): Promise<BenchResult> {
  const { allocator } = request;
  const a = request.args as CrossThreadArgs;
  if (isNativeAllocator(allocator)) {
    const r = await runNative(allocator, 'cross-thread', [a.cycles, a.ws, a.seed, a.min, a.max, a.threads]);
    if (isSkipped(r)) return { ...base(null), ...skippedFields(r.skipped) };
    return { ...base(null), ...measured(r, null, null) };
  }
  // Only hakmem gets here (checkThreads: a ring needs two threads on a shared heap).
  const { crossThreadThreads } = await import('../threads/run-threads');
  const r = await crossThreadThreads({ preset: request.preset, build: request.build, align: request.align }, a);
  const h = { preset: r.stats.preset, build: r.stats.build, align: r.stats.align, configHash: r.stats.configHash };
  return { ...base(h), ...measured(r, null, r.stats.residentBytes) };
}
