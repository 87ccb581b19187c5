/**
 * glibc-thread [THREADS] [ITERS]: glibc's threaded malloc benchmark as mimalloc-bench runs it
 * (bench-malloc-thread): each thread replaces random blocks of its own 1024-slot working set with
 * blocks of inverse-square distributed sizes (4 bytes to 32 KiB), written whole. hakmem runs the
 * threads as workers on one shared heap. Specified in WORKLOADS.md; C: scripts/native/glibc-thread.c.
 */
import type { ReplayAllocator } from '../adapters/allocator-adapter';
import type { Fingerprint } from './random-mixed';
import { Xorshift32 } from './rng';
import type { Workload } from './workload';

export interface GlibcThreadArgs {
  threads: number;
  iters: number;
}

const WORKING_SET = 1024;
const MIN_SIZE = 4;
const MAX_SIZE = 32768;
const SIZE_TABLE = 8000;
const OFFSET_TABLE = 4 * WORKING_SET;
/** The tables' seed (bench-malloc-thread's RAND_SEED). */
const TABLE_SEED = 88;

/**
 * The size for a 31-bit draw: inverse-square distributed on [MIN, MAX], 1 / (1/MIN + r (1/MAX - 1/MIN))
 * with r = draw / 2^31, computed exactly in integers: floor(MIN MAX 2^31 / (MAX 2^31 - draw (MAX - MIN))).
 */
export function inverseSquareSize(draw: number): number {
  const n = MIN_SIZE * MAX_SIZE * 2 ** 31;
  const d = MAX_SIZE * 2 ** 31 - draw * (MAX_SIZE - MIN_SIZE);
  let q = Math.floor(n / d);
  if (q * d > n) q--; // the division rounded up to the next whole number
  return q;
}

/** The two tables every thread walks: block sizes, then working-set slots, from one xorshift32. */
function tables(): { sizes: Int32Array; offsets: Int32Array } {
  const rng = new Xorshift32(TABLE_SEED);
  const sizes = new Int32Array(SIZE_TABLE);
  for (let i = 0; i < SIZE_TABLE; i++) sizes[i] = inverseSquareSize(rng.draw());
  const offsets = new Int32Array(OFFSET_TABLE);
  for (let i = 0; i < OFFSET_TABLE; i++) offsets[i] = rng.draw() % WORKING_SET;
  return { sizes, offsets };
}

export const glibcThreadWorkload: Workload<GlibcThreadArgs> = {
  name: 'glibc-thread',
  description:
    "glibc's bench-malloc-thread: each of THREADS threads replaces\n" +
    'random blocks of its own 1024 slots, ITERS times, with blocks of\n' +
    'inverse-square distributed sizes 4..32768, written whole',
  args: [
    { name: 'THREADS', key: 'threads', help: 'threads (mimalloc-bench: the core count)', min: 1, max: 256, default: 2 },
    { name: 'ITERS', key: 'iters', help: 'replacements per thread (mimalloc-bench: as many as fit in 2 s)', min: 1, max: 2 ** 40, default: 5_000_000 },
  ],
  threads: (a) => a.threads,
  ts: {
    kind: 'threads',
    heapBytes: (a) => Math.min(2 ** 31 - 2 ** 16, 64 * 2 ** 20 + a.threads * WORKING_SET * MAX_SIZE * 2),
    worker: ({ allocator, args, start }) => {
      const t = tables();
      replaceBlocks(allocator, Math.min(args.iters, 200_000), t);
      start();
      return replaceBlocks(allocator, args.iters, t);
    },
    ops: (a) => a.threads * a.iters,
  },
  native: { harness: 'glibc-thread', argv: (a) => [a.threads, a.iters] },
  fingerprint: (a) => {
    const one = threadFingerprint(a.iters, tables().sizes);
    return { mallocs: one.mallocs * a.threads, frees: one.frees * a.threads, bytes: one.bytes * a.threads, hash: Math.imul(one.hash, a.threads) >>> 0 };
  },
  suite: { default: [2, 5_000_000], tiny: [2, 20_000] },
};

/** One thread's loop: `iters` replacements, then its working set freed. */
function replaceBlocks<P>(a: ReplayAllocator<P>, iters: number, t: { sizes: Int32Array; offsets: Int32Array }): Fingerprint {
  const m = a.target;
  const ws = a.newSlots(WORKING_SET);
  const { sizes, offsets } = t;
  let bytes = 0;
  let hash = 0;
  let s = 0;
  let o = 0;
  for (let i = 0; i < iters; i++) {
    const idx = offsets[o];
    const size = sizes[s];
    o = o + 1 === OFFSET_TABLE ? 0 : o + 1;
    s = s + 1 === SIZE_TABLE ? 0 : s + 1;
    const old = ws[idx];
    if (old !== a.empty) m.free(old);
    const p = m.malloc(size);
    if (p === a.empty) throw new Error(`${a.name}: out of memory allocating ${size} bytes (glibc-thread)`);
    a.fill(p, size, i & 255);
    ws[idx] = p;
    bytes += size;
    hash = (Math.imul(hash, 31) + size) | 0;
  }
  for (let k = 0; k < WORKING_SET; k++) if (ws[k] !== a.empty) m.free(ws[k]);
  return { mallocs: iters, frees: iters, bytes, hash: hash >>> 0 };
}

function threadFingerprint(iters: number, sizes: Int32Array): Fingerprint {
  let bytes = 0;
  let hash = 0;
  for (let i = 0; i < iters; i++) {
    const size = sizes[i % SIZE_TABLE];
    bytes += size;
    hash = (Math.imul(hash, 31) + size) | 0;
  }
  return { mallocs: iters, frees: iters, bytes, hash: hash >>> 0 };
}
