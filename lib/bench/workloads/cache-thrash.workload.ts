/**
 * cache-thrash THREADS ITERATIONS SIZE REPETITIONS: Hoard's active false-sharing test (cache-writes.ts,
 * scripts/native/cache-thrash.c): each thread allocates, writes and frees its own small blocks; an
 * allocator that gives two threads blocks on one cache line makes them fight over it.
 */
import {
  cacheArgSpecs,
  cacheFingerprint,
  cacheWrites,
  checkCacheArgs,
  passesOf,
  warmUpCacheWrites,
  type CacheWritesArgs,
} from './cache-writes';
import { heapOf } from './worker-heap';
import type { Workload } from './workload';

export const cacheThrashWorkload: Workload<CacheWritesArgs> = {
  name: 'cache-thrash',
  description:
    "Hoard's active false sharing: each thread mallocs a SIZE-byte\n" +
    'block, writes and reads it back REPETITIONS / THREADS times,\n' +
    'frees it, ITERATIONS times (mimalloc-bench cache-thrash)',
  args: cacheArgSpecs,
  check: checkCacheArgs,
  threads: (a) => a.threads,
  ts: {
    kind: 'threads',
    heapBytes: () => 64 * 2 ** 20,
    worker(ctx) {
      const heap = heapOf(ctx.allocator);
      const a = ctx.args;
      warmUpCacheWrites(heap, a);
      ctx.start();
      const hash = cacheWrites(heap, a.iterations, a.size, passesOf(a));
      return { mallocs: a.iterations, frees: a.iterations, bytes: a.iterations * a.size, hash };
    },
    ops: (a) => a.threads * a.iterations,
  },
  native: { harness: 'cache-thrash', argv: (a) => [a.threads, a.iterations, a.size, a.repetitions] },
  fingerprint: (a) => cacheFingerprint(a, 0),
  suite: { default: [2, 1000, 1, 200_000], tiny: [2, 20, 8, 40] },
};
