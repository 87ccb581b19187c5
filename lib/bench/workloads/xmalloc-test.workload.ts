/**
 * xmalloc-test [THREADS] [BATCHES] [SIZE]: Lever and Boreham's multi-threaded malloc test as
 * mimalloc-bench runs it (xmalloc-test.ts, scripts/native/xmalloc-test.c): THREADS producers allocate
 * batches of 4096 blocks that THREADS consumers free. A fixed number of batches instead of the
 * original's time limit, so the fingerprint is fixed by the arguments. Workers 0..THREADS-1 produce,
 * THREADS..2 THREADS-1 consume.
 */
import { heapOf } from './worker-heap';
import type { Workload } from './workload';
import {
  BATCH_BYTES,
  MAX_SIZE,
  OBJECTS_PER_BATCH,
  QUEUE_LIMIT,
  xmallocConsume,
  xmallocFingerprint,
  xmallocProduce,
  xmallocQueue,
  type XmallocArgs,
} from './xmalloc-test';

/** Untimed warm-up: this many batches at most, produced and consumed by the worker itself. */
const WARMUP_BATCHES = 8;

export const xmallocTestWorkload: Workload<XmallocArgs> = {
  name: 'xmalloc-test',
  description:
    "Lever and Boreham's xmalloc-test: THREADS producers each fill BATCHES\n" +
    'batches of 4096 blocks of SIZE bytes (0: mixed 8..2048) and push them\n' +
    'on one stack of at most 100 batches; THREADS consumers pop and free them',
  args: [
    { name: 'THREADS', key: 'threads', help: 'producers, and as many consumers (mimalloc-bench: -w, the core count)', min: 1, max: 8, default: 2 },
    { name: 'BATCHES', key: 'batches', help: 'batches per producer (mimalloc-bench: as many as fit in 5 s)', min: 1, max: 2 ** 20, default: 1_000 },
    { name: 'SIZE', key: 'size', help: 'block size, 0 for sizes drawn from 8..2048 (mimalloc-bench: -s 64)', min: 0, max: MAX_SIZE, default: 64 },
  ],
  threads: (a) => 2 * a.threads,
  ts: {
    kind: 'threads',
    // The stack full and every producer and consumer holding a batch besides, or every batch there is
    // (blocks round up: twice their size).
    heapBytes(a) {
      const batch = OBJECTS_PER_BATCH * (2 * (a.size || MAX_SIZE) + 16) + 2 * BATCH_BYTES;
      const live = Math.min(QUEUE_LIMIT + 2 * a.threads, a.threads * a.batches);
      return Math.min(2 ** 31 - 2 ** 16, Math.ceil((64 * 2 ** 20 + live * batch) / 2 ** 21) * 2 ** 21);
    },
    shared: () => xmallocQueue(),
    worker(ctx) {
      const heap = heapOf(ctx.allocator);
      const a = ctx.args;
      const producer = ctx.index < a.threads;
      const own = new Int32Array(xmallocQueue());
      const warmup = Math.min(a.batches, WARMUP_BATCHES);
      xmallocProduce(heap, own, ctx.index % a.threads, warmup, a.size);
      xmallocConsume(heap, own, warmup);
      const queue = new Int32Array(ctx.shared!);
      ctx.start();
      return producer ? xmallocProduce(heap, queue, ctx.index, a.batches, a.size) : xmallocConsume(heap, queue, a.threads * a.batches);
    },
    ops: (_a, f) => f.mallocs + f.frees,
  },
  native: { harness: 'xmalloc-test', argv: (a) => [a.threads, a.batches, a.size] },
  fingerprint: xmallocFingerprint,
  suite: { default: [2, 1_000, 64], tiny: [2, 6, 64] },
};
