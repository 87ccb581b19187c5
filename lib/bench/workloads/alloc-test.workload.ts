/**
 * alloc-test [THREADS] [ITERS] [ITEMS] [SEED]: OLogN's allocator tester as mimalloc-bench runs it
 * (alloc-test1, alloc-testN): each thread fills half its slots, then ITERS times picks a slot with an
 * 80/20 (Pareto) bias, freeing the block there or allocating one of a size skewed to small
 * (5..1024 bytes), written whole. Specified in WORKLOADS.md; C: scripts/native/alloc-test.c.
 */
import type { ReplayAllocator } from '../adapters/allocator-adapter';
import type { Fingerprint } from './random-mixed';
import { xorshift32Draw, xorshift32Next, xorshift32Seed } from './rng';
import type { Workload } from './workload';

export interface AllocTestArgs {
  threads: number;
  iters: number;
  items: number;
  seed: number;
}

/** Pareto 80/20 over six levels, in millionths: the chance of each bucket, hottest (fewest slots) first. */
const BUCKET_CHANCE = [262144, 393216, 245760, 81920, 15360, 1536, 64] as const;
const MILLION = 1_000_000;
/** Slots per thread below which the hottest bucket (64 millionths of the slots) would be empty. */
const MIN_SLOTS = 16384;
const MAX_BLOCK = 1024;

export const allocTestWorkload: Workload<AllocTestArgs> = {
  name: 'alloc-test',
  description:
    "OLogN's alloc-test: each thread fills half of ITEMS / THREADS slots,\n" +
    'then ITERS times picks a slot (80/20 biased) and frees its block or\n' +
    'allocates one of 5..1024 bytes (skewed small), written whole',
  args: [
    { name: 'THREADS', key: 'threads', help: 'threads, each with its own slots (mimalloc-bench: 1 and the core count)', min: 1, max: 64, default: 2 },
    { name: 'ITERS', key: 'iters', help: 'picks per thread (mimalloc-bench: 100000000)', min: 1, max: 2 ** 40, default: 10_000_000 },
    { name: 'ITEMS', key: 'items', help: 'slots in all, divided among the threads (mimalloc-bench: 262144)', min: MIN_SLOTS, max: 2 ** 24, default: 2 ** 18 },
    { name: 'SEED', key: 'seed', help: 'xorshift32 seed of every thread', min: 0, max: 2 ** 32 - 1, default: 41 },
  ],
  check: (a) => (Math.floor(a.items / a.threads) < MIN_SLOTS ? `ITEMS / THREADS must be at least ${MIN_SLOTS} slots, got ${Math.floor(a.items / a.threads)}` : null),
  threads: (a) => a.threads,
  ts: {
    kind: 'threads',
    heapBytes: (a) => Math.min(2 ** 31 - 2 ** 16, 64 * 2 ** 20 + a.items * (MAX_BLOCK + 64)),
    worker: ({ allocator, args, start }) => {
      const slots = Math.floor(args.items / args.threads);
      allocTest(allocator, slots, Math.min(args.iters, 500_000), (args.seed + 1) >>> 0, true);
      start();
      return allocTest(allocator, slots, args.iters, args.seed, true);
    },
    ops: (a) => a.threads * a.iters,
  },
  native: { harness: 'alloc-test', argv: (a) => [a.threads, a.iters, a.items, a.seed] },
  fingerprint: (a) => {
    const one = allocTest(null, Math.floor(a.items / a.threads), a.iters, a.seed, false);
    return { mallocs: one.mallocs * a.threads, frees: one.frees * a.threads, bytes: one.bytes * a.threads, hash: Math.imul(one.hash, a.threads) >>> 0 };
  },
  suite: { default: [2, 10_000_000, 2 ** 18, 41], tiny: [2, 20_000, 2 ** 15, 41] },
};

/** The first slot of each bucket, and the end: the hottest bucket is the first and smallest. */
function bucketStarts(slots: number): Int32Array {
  const starts = new Int32Array(8);
  for (let k = 0; k < 6; k++) starts[k + 1] = starts[k] + Math.floor((slots * BUCKET_CHANCE[6 - k]) / MILLION);
  starts[7] = slots;
  return starts;
}

/** Bucket thresholds: a draw % 1e6 below thresholds[k] (and not below the one before) picks bucket k. */
const THRESHOLDS = BUCKET_CHANCE.slice(0, 6).map((_, k) => BUCKET_CHANCE.slice(0, k + 1).reduce((s, c) => s + c, 0));

/**
 * One thread's run: setup (each slot filled with a coin toss), ITERS picks, then every block freed.
 * With `a` null it only counts (the reference fingerprint). Blocks are written whole with size & 255.
 */
function allocTest<P>(a: ReplayAllocator<P> | null, slots: number, iters: number, seed: number, allocate: boolean): Fingerprint {
  const ptrs = a && allocate ? a.newSlots(slots) : null;
  const sizes = new Int32Array(slots);
  const starts = bucketStarts(slots);
  const [t0, t1, t2, t3, t4, t5] = THRESHOLDS;
  let x = xorshift32Seed(seed);
  let mallocs = 0;
  let frees = 0;
  let bytes = 0;
  let hash = 0;
  const take = (s: number) => {
    x = xorshift32Next(x);
    const base = (xorshift32Draw(x) & 127) + 1;
    const shift = 31 - Math.clz32(base & -base) + 2; // trailing zeros + 2: 2..9
    x = xorshift32Next(x);
    const size = (xorshift32Draw(x) & ((1 << shift) - 1)) + 1 + (1 << shift);
    if (ptrs) {
      const p = a!.target.malloc(size);
      if (p === a!.empty) throw new Error(`${a!.name}: out of memory allocating ${size} bytes (alloc-test)`);
      a!.fill(p, size, size & 255);
      ptrs[s] = p;
    }
    sizes[s] = size;
    mallocs++;
    bytes += size;
    hash = (Math.imul(hash, 31) + size) | 0;
  };
  const release = (s: number) => {
    if (ptrs) {
      const p = ptrs[s];
      const size = sizes[s];
      // The block still holds what was written: first, middle and last byte.
      if (a!.byteAt(p, 0) !== (size & 255) || a!.byteAt(p, size >>> 1) !== (size & 255) || a!.byteAt(p, size - 1) !== (size & 255)) {
        throw new Error(`${a!.name}: alloc-test block in slot ${s} (${size} bytes) was overwritten`);
      }
      a!.target.free(p);
    }
    sizes[s] = 0;
    frees++;
  };
  for (let s = 0; s < slots; s++) {
    x = xorshift32Next(x);
    if (xorshift32Draw(x) & 1) take(s);
  }
  for (let i = 0; i < iters; i++) {
    x = xorshift32Next(x);
    const u = xorshift32Draw(x) % MILLION;
    const k = u < t0 ? 0 : u < t1 ? 1 : u < t2 ? 2 : u < t3 ? 3 : u < t4 ? 4 : u < t5 ? 5 : 6;
    x = xorshift32Next(x);
    const s = starts[k] + (xorshift32Draw(x) % (starts[k + 1] - starts[k]));
    if (sizes[s] !== 0) release(s);
    else take(s);
  }
  for (let s = 0; s < slots; s++) if (sizes[s] !== 0) release(s);
  return { mallocs, frees, bytes, hash: hash >>> 0 };
}
