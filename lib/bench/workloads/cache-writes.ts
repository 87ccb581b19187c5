/**
 * The loop of cache-thrash and cache-scratch (lib/bench/workloads/WORKLOADS.md; scripts/native/
 * cache-writes.h), Hoard's false-sharing tests: a thread allocates a small block, writes every byte
 * and reads it back many times, frees it, and again. Blocks of two threads on one cache line make
 * every write a transfer of the line between cores.
 * In TypeScript the bytes live in hakmem's SharedArrayBuffer and are written through its Uint8Array
 * view, so the hardware sees the same stores to the same lines as in C.
 */
import type { Heap } from '../../alloc/heap';
import type { Fingerprint } from './random-mixed';
import type { ArgSpec } from './workload';

export interface CacheWritesArgs {
  threads: number;
  iterations: number;
  size: number;
  /** Write passes in all; each thread makes repetitions / threads of them per block. */
  repetitions: number;
}

/** The positionals of both workloads, with the suite's values scaled to 2 cores as defaults (WORKLOADS.md). */
export const cacheArgSpecs: readonly ArgSpec[] = [
  { name: 'THREADS', key: 'threads', help: 'threads, each with its own blocks', min: 1, max: 1024, default: 2 },
  { name: 'ITERATIONS', key: 'iterations', help: 'blocks each thread allocates, one after another', min: 1, max: 2 ** 31 - 1, default: 1000 },
  { name: 'SIZE', key: 'size', help: 'bytes per block', min: 1, max: 2 ** 20, default: 1 },
  { name: 'REPETITIONS', key: 'repetitions', help: 'write passes over each block, divided among the threads', min: 1, max: 2 ** 40, default: 200_000 },
];

/**
 * One thread's loop: `iterations` blocks of `size` bytes, each written and read back `passes` times
 * (byte k of iteration i holds (k + i) & 255). Returns the hash of the read-back sums.
 */
export function cacheWrites(heap: Heap, iterations: number, size: number, passes: number): number {
  const u8 = heap.u8;
  let hash = 0;
  for (let i = 0; i < iterations; i++) {
    const p = heap.malloc(size);
    if (p === 0) throw new Error(`cache test: out of memory allocating ${size} bytes at iteration ${i}`);
    let sum = 0;
    for (let r = 0; r < passes; r++) {
      for (let k = 0; k < size; k++) {
        u8[p + k] = k + i;
        sum = (sum + u8[p + k]) | 0;
      }
    }
    hash = (Math.imul(hash, 31) + sum) | 0;
    heap.free(p);
  }
  return hash >>> 0;
}

/** Passes per block for each thread: the suite divides the repetitions among the threads. */
export function passesOf(a: CacheWritesArgs): number {
  return Math.floor(a.repetitions / a.threads);
}

/** A problem across the arguments, or null: every thread must make at least one pass. */
export function checkCacheArgs(a: CacheWritesArgs): string | null {
  return a.repetitions < a.threads ? `REPETITIONS (${a.repetitions}) must be at least THREADS (${a.threads})` : null;
}

/** The untimed warm-up before the barrier: the same loop, short, so the measured one starts optimised. */
export function warmUpCacheWrites(heap: Heap, a: CacheWritesArgs): void {
  cacheWrites(heap, Math.min(a.iterations, 64), a.size, Math.min(passesOf(a), 256));
}

/**
 * The fingerprint of `extra` blocks handed out before the loops plus every thread's loop, computed
 * without allocating: every thread's hash is the same, so the sum is THREADS times it.
 */
export function cacheFingerprint(a: CacheWritesArgs, extra: number): Fingerprint {
  const passes = passesOf(a);
  let hash = 0;
  for (let i = 0; i < a.iterations; i++) {
    hash = (Math.imul(hash, 31) + Math.imul(passes | 0, byteSum(a.size, i))) | 0;
  }
  const mallocs = a.threads * a.iterations + extra;
  return { mallocs, frees: mallocs, bytes: mallocs * a.size, hash: Math.imul(hash, a.threads) >>> 0 };
}

/** The sum of (k + i) & 255 for k below size, mod 2^32. */
function byteSum(size: number, i: number): number {
  let sum = Math.floor(size / 256) * 32640; // every byte value once per 256
  for (let k = 0; k < size % 256; k++) sum += (k + i) & 255;
  return sum | 0;
}
