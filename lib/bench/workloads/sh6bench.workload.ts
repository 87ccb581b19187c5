/**
 * sh6bench THREADS CALLS MAXSIZE: MicroQuill's SmartHeap benchmark as mimalloc-bench runs it
 * (sh6bench.ts, scripts/native/sh6bench.c): threads sweeping block sizes through a buffer they walk
 * round and round, freeing most of it at every wrap.
 */
import { sh6Fingerprint, sh6HeapBytes, sh6Loop, sh6Slots, type Sh6Args } from './sh6bench';
import { heapOf } from './worker-heap';
import type { Workload } from './workload';

/** Untimed warm-up: two sweeps on a buffer of at most this many slots. */
const WARMUP_SLOTS = 100;
const WARMUP_ROUNDS = 2;

export const sh6benchWorkload: Workload<Sh6Args> = {
  name: 'sh6bench',
  description:
    'SmartHeap sh6bench: each thread walks a buffer of CALLS /\n' +
    'THREADS blocks, sizes sweeping 1 .. MAXSIZE, as many sweeps\n' +
    'as slots; every wrap frees all but a fifth (mimalloc-bench)',
  args: [
    { name: 'THREADS', key: 'threads', help: 'threads, each with its own buffer', min: 1, max: 1024, default: 4 },
    { name: 'CALLS', key: 'calls', help: 'buffer slots in all (divided among the threads); also the sweeps per thread', min: 1, max: 2 ** 24, default: 2000 },
    { name: 'MAXSIZE', key: 'maxSize', help: 'the sweep stops below this size', min: 2, max: 2 ** 24, default: 1000 },
  ],
  check: (a) => (a.calls < a.threads ? `CALLS (${a.calls}) must be at least THREADS (${a.threads})` : null),
  threads: (a) => a.threads,
  ts: {
    kind: 'threads',
    heapBytes: sh6HeapBytes,
    worker(ctx) {
      const heap = heapOf(ctx.allocator);
      const a = ctx.args;
      sh6Loop(heap, heap.u8, Math.min(sh6Slots(a), WARMUP_SLOTS), WARMUP_ROUNDS, a.maxSize);
      ctx.start();
      const n = sh6Slots(a);
      return sh6Loop(heap, heap.u8, n, n, a.maxSize);
    },
    ops: (_a, f) => f.mallocs + f.frees,
  },
  native: { harness: 'sh6bench', argv: (a) => [a.threads, a.calls, a.maxSize] },
  fingerprint: sh6Fingerprint,
  suite: { default: [4, 2000, 1000], tiny: [2, 20, 100] },
};
