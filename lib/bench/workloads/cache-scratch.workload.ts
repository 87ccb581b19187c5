/**
 * cache-scratch THREADS ITERATIONS SIZE REPETITIONS: Hoard's passive false-sharing test
 * (cache-writes.ts, scripts/native/cache-scratch.c). A main thread allocates one block per thread,
 * one after another (so neighbours likely share a cache line), and hands block t to thread t, which
 * frees it and then runs cache-thrash's loop: an allocator that hands the freed block (or its line)
 * back to that thread makes the threads write one line.
 * In TypeScript the main thread is worker THREADS: it allocates the blocks, publishes them, and
 * reaches the start barrier with the others; its thread identity stays attached until the run ends.
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

/** Shared words: [0] is 1 once the blocks are published, plus one per block freed; [1 + t] is thread t's block. */
const PUBLISHED = 0;
const BLOCKS = 1;

export const cacheScratchWorkload: Workload<CacheWritesArgs> = {
  name: 'cache-scratch',
  description:
    "Hoard's passive false sharing: the main thread mallocs one\n" +
    'block per thread; each thread frees its block, then runs\n' +
    "cache-thrash's loop (mimalloc-bench cache-scratch)",
  args: cacheArgSpecs,
  check: checkCacheArgs,
  // The workers and the main thread that hands out the blocks.
  threads: (a) => a.threads + 1,
  ts: {
    kind: 'threads',
    heapBytes: () => 64 * 2 ** 20,
    shared: (a) => new SharedArrayBuffer((BLOCKS + a.threads) * 4),
    worker(ctx) {
      const heap = heapOf(ctx.allocator);
      const a = ctx.args;
      const words = new Int32Array(ctx.shared!);
      if (ctx.index === a.threads) {
        for (let t = 0; t < a.threads; t++) {
          const p = heap.malloc(a.size);
          if (p === 0) throw new Error(`cache-scratch: out of memory allocating thread ${t}'s block`);
          words[BLOCKS + t] = p;
        }
        Atomics.store(words, PUBLISHED, 1);
        Atomics.notify(words, PUBLISHED);
        ctx.start();
        // Stays attached until every block is freed, as the suite's main thread lives on: its identity owns them.
        while (Atomics.load(words, PUBLISHED) !== 1 + a.threads) Atomics.wait(words, PUBLISHED, Atomics.load(words, PUBLISHED), 1);
        return { mallocs: a.threads, frees: 0, bytes: a.threads * a.size, hash: 0 };
      }
      warmUpCacheWrites(heap, a);
      Atomics.wait(words, PUBLISHED, 0);
      ctx.start();
      heap.free(words[BLOCKS + ctx.index]);
      Atomics.add(words, PUBLISHED, 1);
      Atomics.notify(words, PUBLISHED);
      const hash = cacheWrites(heap, a.iterations, a.size, passesOf(a));
      return { mallocs: a.iterations, frees: a.iterations + 1, bytes: a.iterations * a.size, hash };
    },
    ops: (a) => a.threads * a.iterations,
  },
  native: { harness: 'cache-scratch', argv: (a) => [a.threads, a.iterations, a.size, a.repetitions] },
  fingerprint: (a) => cacheFingerprint(a, a.threads),
  suite: { default: [2, 1000, 1, 200_000], tiny: [2, 20, 8, 40] },
};
