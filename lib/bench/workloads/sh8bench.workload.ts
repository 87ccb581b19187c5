/**
 * sh8bench THREADS ITERATIONS HEAPSIZE FOREIGN: MicroQuill's SmartHeap benchmark as mimalloc-bench
 * runs it (sh8bench.ts, scripts/native/sh8bench.c). The threads walk buffers of blocks sized from a
 * histogram (8 B to 164 KiB) while a producer allocates FOREIGN 8-byte blocks they free (remote frees).
 * In C the producer is the main thread; in TypeScript it is worker THREADS.
 */
import { SH8_MAX_SIZE, sh8Consume, sh8Fingerprint, sh8Foreign, sh8Produce, sh8Shares, type Sh8Args } from './sh8bench';
import { heapOf } from './worker-heap';
import type { Workload } from './workload';

/** Untimed warm-up: this many histogram steps on a buffer of at most this many slots. */
const WARMUP_STEPS = 240;
const WARMUP_SLOTS = 5000;
/** The histogram's mean request (bytes per block over one turn of its 12 steps), rounded up. */
const MEAN_BLOCK_BYTES = 57;

export const sh8benchWorkload: Workload<Sh8Args> = {
  name: 'sh8bench',
  description:
    'SmartHeap sh8bench: each thread walks a buffer of HEAPSIZE /\n' +
    'THREADS blocks (8 B to 164 KiB, from a histogram) for\n' +
    'ITERATIONS / THREADS steps, and frees its share of FOREIGN\n' +
    '8-byte blocks another thread allocates meanwhile (mimalloc-bench)',
  args: [
    { name: 'THREADS', key: 'threads', help: 'threads walking buffers (a producer thread runs beside them)', min: 1, max: 1024, default: 4 },
    { name: 'ITERATIONS', key: 'iterations', help: 'histogram steps in all, divided among the threads', min: 1, max: 2 ** 40, default: 14_000 },
    { name: 'HEAPSIZE', key: 'heapSize', help: 'buffer slots in all, divided among the threads', min: 1, max: 2 ** 26, default: 100_000 },
    { name: 'FOREIGN', key: 'foreign', help: 'blocks the producer allocates for the threads to free (rounded down to a multiple of THREADS^2)', min: 0, max: 2 ** 26, default: 200_000 },
  ],
  check: (a) =>
    a.iterations < a.threads || a.heapSize < a.threads
      ? `ITERATIONS (${a.iterations}) and HEAPSIZE (${a.heapSize}) must each be at least THREADS (${a.threads})`
      : null,
  // The threads and the producer.
  threads: (a) => a.threads + 1,
  ts: {
    kind: 'threads',
    heapBytes(a) {
      const want = 64 * 2 ** 20 + 3 * a.heapSize * MEAN_BLOCK_BYTES + 4 * a.threads * SH8_MAX_SIZE + 16 * sh8Foreign(a);
      return Math.min(2 ** 31 - 2 ** 16, Math.ceil(want / 2 ** 21) * 2 ** 21);
    },
    // The published blocks in order, and one word more that stays 0 (the consumers' sleep).
    shared: (a) => new SharedArrayBuffer((sh8Foreign(a) + 1) * 4),
    worker(ctx) {
      const heap = heapOf(ctx.allocator);
      const a = ctx.args;
      const shared = new Int32Array(ctx.shared!);
      if (ctx.index === a.threads) {
        ctx.start();
        return sh8Produce(heap, heap.u8, shared, sh8Foreign(a));
      }
      const { slots, iterations } = sh8Shares(a);
      sh8Consume(heap, heap.u8, null, ctx.index, a.threads, Math.min(slots, WARMUP_SLOTS), Math.min(iterations, WARMUP_STEPS), 0);
      ctx.start();
      return sh8Consume(heap, heap.u8, shared, ctx.index, a.threads, slots, iterations, sh8Foreign(a));
    },
    ops: (_a, f) => f.mallocs + f.frees,
  },
  native: { harness: 'sh8bench', argv: (a) => [a.threads, a.iterations, a.heapSize, a.foreign] },
  fingerprint: sh8Fingerprint,
  suite: { default: [4, 14_000, 100_000, 200_000], tiny: [2, 48, 400, 64] },
};
