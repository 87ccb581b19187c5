/**
 * rptest THREADS CROSSRATE LOOPS ALLOCS OPS MIN MAX SIZEMODE SEED: rpmalloc-benchmark as mimalloc-bench
 * runs it (rptest.ts, scripts/native/rptest.c): threads churning slots of mixed-size blocks, some
 * aligned, every block written whole, with batches of blocks sent to other threads to free.
 */
import { checkRptest, rptestFingerprint, rptestShared, rptestTables, rptestThread, type RptestArgs } from './rptest';
import { heapOf } from './worker-heap';
import type { Workload } from './workload';

export const rptestWorkload: Workload<RptestArgs> = {
  name: 'rptest',
  description:
    'rpmalloc-benchmark: each thread frees and refills ALLOCS slots,\n' +
    'OPS-scaled counts per loop, sizes MIN..MAX (SIZEMODE 0 even,\n' +
    '1 linear, 2 exp drop-off), some aligned, all written whole;\n' +
    'every CROSSRATE loops a batch goes to another thread to free',
  args: [
    { name: 'THREADS', key: 'threads', help: 'threads', min: 1, max: 1024, default: 2 },
    { name: 'CROSSRATE', key: 'crossRate', help: 'a batch to another thread every CROSSRATE loops (0: none)', min: 0, max: 2 ** 24, default: 2 },
    { name: 'LOOPS', key: 'loops', help: 'loops per iteration (two iterations)', min: 1, max: 2 ** 24, default: 500 },
    { name: 'ALLOCS', key: 'allocs', help: "slots per thread", min: 1, max: 2 ** 24, default: 1000 },
    { name: 'OPS', key: 'ops', help: 'scales the allocations (30-99%) and frees (24-79%) per loop', min: 1, max: 2 ** 24, default: 100 },
    { name: 'MIN', key: 'min', help: 'smallest block', min: 1, max: 2 ** 24, default: 8 },
    { name: 'MAX', key: 'max', help: 'largest block', min: 1, max: 2 ** 24, default: 16_000 },
    { name: 'SIZEMODE', key: 'sizeMode', help: 'size distribution: 0 even, 1 linear drop-off, 2 exponential', min: 0, max: 2, default: 1 },
    { name: 'SEED', key: 'seed', help: "xorshift32 seed of the size and op-count tables", min: 0, max: 2 ** 32 - 1, default: 1 },
  ],
  check: checkRptest,
  threads: (a) => a.threads,
  ts: {
    kind: 'threads',
    heapBytes(a) {
      // Every slot of every thread full of the largest blocks, batches in flight as many again, and slack.
      const want = 64 * 2 ** 20 + 4 * a.threads * a.allocs * (a.max + 64);
      return Math.min(2 ** 31 - 2 ** 16, Math.ceil(want / 2 ** 21) * 2 ** 21);
    },
    shared: (a) => rptestShared(a.threads),
    worker(ctx) {
      const heap = heapOf(ctx.allocator);
      const a = ctx.args;
      const tables = rptestTables(a);
      // Warm-up on an inbox of its own, no batches: a few loops of both iterations, untimed.
      rptestThread(heap, new Int32Array(rptestShared(1)), tables, { ...a, threads: 1, loops: Math.min(a.loops, 20) }, 0);
      ctx.start();
      return rptestThread(heap, new Int32Array(ctx.shared!), tables, a, ctx.index);
    },
    ops: (_a, f) => f.mallocs + f.frees,
  },
  native: { harness: 'rptest', argv: (a) => [a.threads, a.crossRate, a.loops, a.allocs, a.ops, a.min, a.max, a.sizeMode, a.seed] },
  fingerprint: rptestFingerprint,
  suite: { default: [2, 2, 500, 1000, 100, 8, 16_000, 1, 1], tiny: [2, 2, 10, 50, 20, 8, 2000, 1, 1] },
};
