/**
 * mstress [THREADS] [SCALE] [ITER]: mimalloc-bench's mstress (mstress.ts, scripts/native/mstress.c).
 * ITER rounds; in each, every thread allocates and frees blocks of varying sizes and swaps some with the
 * other threads through shared slots, then ends; the main thread frees about half of what the slots
 * hold, and new threads start the next round. In C thread 0 is the main thread and the others are new
 * pthreads every round; in TypeScript worker 0 is the main thread and the others become new thread
 * identities on the heap every round (ctx.renew: a Worker costs milliseconds to start).
 */
import { mstressCleanup, mstressCleanupRng, mstressFingerprint, mstressRound, mstressThread, TRANSFERS, type MstressArgs } from './mstress';
import { barrier, BARRIER_WORDS } from './spin-wait';
import { heapOf } from './worker-heap';
import type { Workload } from './workload';

/** The untimed warm-up runs a round at this SCALE at most, on transfer slots of its own. */
const WARMUP_SCALE = 10;

export const mstressWorkload: Workload<MstressArgs> = {
  name: 'mstress',
  description:
    "mimalloc-bench's mstress: ITER rounds of THREADS new threads, each\n" +
    'allocating and freeing blocks of 8 B to 512 B (2% of them 100 to\n' +
    '10000 times larger) and swapping blocks through 1000 shared slots',
  args: [
    { name: 'THREADS', key: 'threads', help: 'threads per round (mimalloc-bench: the core count)', min: 1, max: 64, default: 2 },
    { name: 'SCALE', key: 'scale', help: 'work per thread: thread t allocates 150 * SCALE * (t % 8 + 1) blocks a round (mimalloc-bench: 50)', min: 1, max: 10_000, default: 50 },
    { name: 'ITER', key: 'iter', help: 'rounds, each on new threads (mimalloc-bench: 25)', min: 1, max: 100_000, default: 25 },
  ],
  threads: (a) => a.threads,
  ts: {
    kind: 'threads',
    // Every block of one round (blocks round up, so twice that), and room for what the slots keep.
    heapBytes: (a) => Math.min(2 ** 31 - 2 ** 16, Math.ceil((64 * 2 ** 20 + 2 * mstressRound(a).bytes) / 2 ** 21) * 2 ** 21),
    // The transfer slots, then the rounds' barrier.
    shared: () => new SharedArrayBuffer((TRANSFERS + BARRIER_WORDS) * 4),
    worker(ctx) {
      const a = ctx.args;
      let heap = heapOf(ctx.allocator);
      const transfer = new Int32Array(ctx.shared!, 0, TRANSFERS);
      const sync = new Int32Array(ctx.shared!, TRANSFERS * 4, BARRIER_WORDS);
      const own = new Int32Array(new SharedArrayBuffer(TRANSFERS * 4));
      mstressThread(heap, own, ctx.index, Math.min(a.scale, WARMUP_SCALE));
      mstressCleanup(heap, own, mstressCleanupRng(), true);
      ctx.start();
      const rng = mstressCleanupRng();
      const f = { mallocs: 0, frees: 0, bytes: 0, hash: 0 };
      for (let n = 0; n < a.iter; n++) {
        const r = mstressThread(heap, transfer, ctx.index, a.scale);
        f.mallocs += r.mallocs;
        f.frees += r.frees;
        f.bytes += r.bytes;
        f.hash = (f.hash + r.hash) | 0;
        // The thread ends (its caches flushed); the next round's thread is a new one.
        if (ctx.index !== 0) heap = heapOf(ctx.renew());
        barrier(sync, 0, a.threads);
        if (ctx.index === 0) f.frees += mstressCleanup(heap, transfer, rng, n + 1 === a.iter);
        if (n + 1 < a.iter) barrier(sync, 0, a.threads);
      }
      return { ...f, hash: f.hash >>> 0 };
    },
    ops: (_a, f) => f.mallocs + f.frees,
  },
  native: { harness: 'mstress', argv: (a) => [a.threads, a.scale, a.iter] },
  fingerprint: mstressFingerprint,
  suite: { default: [2, 50, 25], tiny: [2, 2, 3] },
};
