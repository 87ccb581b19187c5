/**
 * The sh6bench loop of lib/bench/workloads/WORKLOADS.md, the same work as scripts/native/sh6bench.c:
 * after MicroQuill's SmartHeap benchmark as mimalloc-bench runs it. One thread's part; every thread
 * runs the same loop on blocks of its own.
 */
import type { MallocFree } from '../adapters/allocator-adapter';
import type { Fingerprint } from './random-mixed';
import { freeOutsideWindow } from './slot-walk';
import { countingAllocator } from './worker-heap';

export interface Sh6Args {
  threads: number;
  calls: number;
  maxSize: number;
}

/** Blocks of a size per sweep step: smaller sizes more often. */
function repeatsOf(size: number): number {
  return size < 100 ? 250 : size < 1000 ? 50 : size < 10000 ? 10 : 1;
}

/**
 * `rounds` sweeps over the sizes below `maxSize` into a buffer of `slots` blocks, walked round and
 * round; each wrap frees all but the next window of slots / 5 (bottom in order, top in reverse).
 * `u8` is the heap's bytes, where each new block's first and last byte are written (null: a model
 * that allocates nothing).
 */
export function sh6Loop(
  m: MallocFree<number>,
  u8: Uint8Array | null,
  slots: number,
  rounds: number,
  maxSize: number,
): Fingerprint {
  const slot = new Int32Array(slots);
  const window = Math.floor(slots / 5);
  let mp = 0;
  let saveStart = slots;
  let saveEnd = slots;
  let mallocs = 0;
  let frees = 0;
  let bytes = 0;
  let hash = 0;
  for (let rep = 0; rep < rounds; rep++) {
    for (let base = 1; base < maxSize; base = Math.floor((base * 3) / 2) + 1) {
      for (let size = base; size > 0; size >>>= 1) {
        for (let it = repeatsOf(size); it > 0; it--) {
          const p = m.malloc(size);
          if (p === 0) throw new Error(`sh6bench: out of memory allocating ${size} bytes (block ${mallocs} of this thread)`);
          if (u8 !== null) u8[p] = u8[p + size - 1] = mallocs;
          mallocs++;
          bytes += size;
          hash = (Math.imul(hash, 31) + size) | 0;
          slot[mp++] = p;
          // Skip the window that still holds the previous round's blocks.
          if (mp === saveStart) mp = saveEnd;
          if (mp >= slots) {
            saveStart = saveEnd >= slots ? 0 : saveEnd;
            saveEnd = Math.min(saveStart + window, slots);
            frees += freeOutsideWindow(m, slot, slots, saveStart, saveEnd);
            mp = 0;
          }
        }
      }
    }
  }
  for (let i = 0; i < mp; i++, frees++) m.free(slot[i]);
  return { mallocs, frees, bytes, hash: hash >>> 0 };
}

/** Slots (and sweeps) of each thread: the suite divides CALLS among the threads. */
export function sh6Slots(a: Sh6Args): number {
  return Math.floor(a.calls / a.threads);
}

/** The shared heap's size: every thread's buffer of blocks, twice the bytes of the blocks the loop never frees (WORKLOADS.md), and slack. */
export function sh6HeapBytes(a: Sh6Args): number {
  const f = sh6Fingerprint(a);
  const leaked = (f.bytes * (f.mallocs - f.frees)) / f.mallocs;
  const want = 64 * 2 ** 20 + 2 * leaked + 2 * sh6Slots(a) * a.threads * a.maxSize;
  return Math.min(2 ** 31 - 2 ** 16, Math.ceil(want / 2 ** 21) * 2 ** 21);
}

/** The run's fingerprint, without allocating: every thread's is the same. */
export function sh6Fingerprint(a: Sh6Args): Fingerprint {
  const n = sh6Slots(a);
  const f = sh6Loop(countingAllocator(), null, n, n, a.maxSize);
  return { mallocs: f.mallocs * a.threads, frees: f.frees * a.threads, bytes: f.bytes * a.threads, hash: Math.imul(f.hash, a.threads) >>> 0 };
}
