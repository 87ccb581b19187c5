/**
 * glibc-simple [ITERS] [SIZE]: glibc's malloc micro-benchmark as mimalloc-bench runs it
 * (bench-malloc-simple): batches of one block size allocated and written whole, then freed half in
 * allocation order and half in reverse, the thread cache's and fast bins' pattern. Specified in
 * WORKLOADS.md; C: scripts/native/glibc-simple.c.
 */
import type { ReplayAllocator } from '../adapters/allocator-adapter';
import type { Fingerprint, LoopResult } from './random-mixed';
import type { Workload } from './workload';

export interface GlibcSimpleArgs {
  iters: number;
  size: number;
}

/** Blocks per batch, as bench-malloc-simple's. */
const BATCHES = [25, 100, 400, 1600] as const;
const LARGEST_BATCH = 1600;
/** The block sizes SIZE, 2 SIZE, 4 SIZE, three passes each. */
const SIZE_FACTORS = [1, 2, 4] as const;
const PASSES = 3;

export const glibcSimpleWorkload: Workload<GlibcSimpleArgs> = {
  name: 'glibc-simple',
  description:
    "glibc's bench-malloc-simple: batches of 25, 100, 400, 1600 blocks\n" +
    'of one size, each written whole, freed half in allocation order\n' +
    'and half in reverse; at SIZE, 2 SIZE, 4 SIZE, three passes each',
  args: [
    { name: 'ITERS', key: 'iters', help: 'blocks per batch length, size and pass (mimalloc-bench: 2000000)', min: LARGEST_BATCH, max: 2 ** 32, default: 2_000_000 },
    { name: 'SIZE', key: 'size', help: 'the first block size in bytes', min: 1, max: 2 ** 20, default: 16 },
  ],
  ts: { kind: 'single', sizing: (a) => ({ slots: LARGEST_BATCH, maxSize: 4 * a.size }), run: glibcSimple },
  native: { harness: 'glibc-simple', argv: (a) => [a.iters, a.size] },
  fingerprint: glibcSimpleFingerprint,
  suite: { default: [2_000_000, 16], tiny: [16_000, 16] },
};

/** The untimed warm-up's ITERS: an eighth of the run's, at least one of each batch. */
function warmupIters(iters: number): number {
  return Math.max(LARGEST_BATCH, Math.floor(iters / 8));
}

function glibcSimple<P>(a: ReplayAllocator<P>, args: GlibcSimpleArgs): LoopResult {
  const arr = a.newSlots(LARGEST_BATCH);
  passes(a, arr, warmupIters(args.iters), args.size, new Float64Array(3));
  const acc = new Float64Array(3);
  const start = process.hrtime.bigint();
  passes(a, arr, args.iters, args.size, acc);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { ops: acc[MALLOCS], seconds, fingerprint: fingerprintOf(acc) };
}

const MALLOCS = 0;
const BYTES = 1;
const HASH = 2;

function fingerprintOf(acc: Float64Array): Fingerprint {
  return { mallocs: acc[MALLOCS], frees: acc[MALLOCS], bytes: acc[BYTES], hash: acc[HASH] >>> 0 };
}

function passes<P>(a: ReplayAllocator<P>, arr: { [i: number]: P }, iters: number, size0: number, acc: Float64Array): void {
  for (const factor of SIZE_FACTORS) {
    for (let pass = 0; pass < PASSES; pass++) {
      for (const n of BATCHES) batches(a, arr, Math.floor(iters / n), n, size0 * factor, acc);
    }
  }
}

/** `rounds` times: n blocks of `size` allocated and written, the first half freed in order, the rest in reverse. */
function batches<P>(a: ReplayAllocator<P>, arr: { [i: number]: P }, rounds: number, n: number, size: number, acc: Float64Array): void {
  const m = a.target;
  let hash = acc[HASH] | 0;
  const half = n >>> 1;
  for (let j = 0; j < rounds; j++) {
    const value = j & 255;
    for (let i = 0; i < n; i++) {
      const p = m.malloc(size);
      if (p === a.empty) throw new Error(`${a.name}: out of memory allocating ${size} bytes (glibc-simple, batch of ${n})`);
      a.fill(p, size, value);
      arr[i] = p;
      hash = (Math.imul(hash, 31) + size) | 0;
    }
    for (let i = 0; i < half; i++) m.free(arr[i]);
    for (let i = n - 1; i >= half; i--) m.free(arr[i]);
  }
  acc[MALLOCS] += rounds * n;
  acc[BYTES] += rounds * n * size;
  acc[HASH] = hash;
}

/** The fingerprint of these arguments: the same sums, without allocating. */
export function glibcSimpleFingerprint(args: GlibcSimpleArgs): Fingerprint {
  let mallocs = 0;
  let bytes = 0;
  let hash = 0;
  for (const factor of SIZE_FACTORS) {
    const size = args.size * factor;
    for (let pass = 0; pass < PASSES; pass++) {
      for (const n of BATCHES) {
        const count = Math.floor(args.iters / n) * n;
        mallocs += count;
        bytes += count * size;
        for (let k = 0; k < count; k++) hash = (Math.imul(hash, 31) + size) | 0;
      }
    }
  }
  return { mallocs, frees: mallocs, bytes, hash: hash >>> 0 };
}
