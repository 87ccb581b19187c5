/**
 * The sh8bench loops of lib/bench/workloads/WORKLOADS.md, the same work as scripts/native/sh8bench.c:
 * after MicroQuill's SmartHeap benchmark as mimalloc-bench runs it. Each consumer thread walks a
 * buffer as sh6bench does, sizes and counts from a fixed histogram in turn, and frees its share of
 * the 8-byte blocks a producer thread allocates meanwhile (published in shared memory, in order).
 */
import type { MallocFree } from '../adapters/allocator-adapter';
import type { Fingerprint } from './random-mixed';
import { freeOutsideWindow } from './slot-walk';
import { countingAllocator } from './worker-heap';

export interface Sh8Args {
  threads: number;
  iterations: number;
  heapSize: number;
  foreign: number;
}

/** The histogram's steps, taken in turn: a size and how many blocks of it. */
const STEP_SIZE = [8, 16, 48, 72, 148, 200, 520, 1056, 4096, 9162, 34562, 168524];
const STEP_COUNT = [1000, 5000, 1000, 100, 100, 100, 10, 5, 3, 1, 1, 1];
export const SH8_MAX_SIZE = 168524;
export const FOREIGN_SIZE = 8;

/** Fruitless looks for the next shared block before a consumer sleeps; and for how long. */
const SPINS_BEFORE_SLEEP = 64;
const SLEEP_MS = 0.05;

/** The shared blocks made: FOREIGN rounded down to a multiple of THREADS^2 (each consumer's share of each part). */
export function sh8Foreign(a: Sh8Args): number {
  return Math.floor(a.foreign / (a.threads * a.threads)) * a.threads * a.threads;
}

/** The producer: FOREIGN 8-byte blocks, each published in `shared` as soon as it is made. */
export function sh8Produce(m: MallocFree<number>, u8: Uint8Array, shared: Int32Array, foreign: number): Fingerprint {
  let hash = 0;
  for (let i = 0; i < foreign; i++) {
    const p = m.malloc(FOREIGN_SIZE);
    if (p === 0) throw new Error(`sh8bench: out of memory allocating shared block ${i}`);
    u8[p] = u8[p + FOREIGN_SIZE - 1] = i;
    hash = (Math.imul(hash, 31) + FOREIGN_SIZE) | 0;
    Atomics.store(shared, i, p); // publishes the block and its bytes
  }
  return { mallocs: foreign, frees: 0, bytes: foreign * FOREIGN_SIZE, hash: hash >>> 0 };
}

/**
 * Consumer `index`: `iterations` histogram steps on a buffer of `slots` blocks; before each step it
 * frees the shared blocks of its share published so far, and after the last waits for the rest.
 * `u8` null: a model that allocates nothing (and `shared` must be null too: no share to free).
 */
export function sh8Consume(
  m: MallocFree<number>,
  u8: Uint8Array | null,
  shared: Int32Array | null,
  index: number,
  threads: number,
  slots: number,
  iterations: number,
  foreign: number,
): Fingerprint {
  const slot = new Int32Array(slots);
  const window = Math.floor(slots / 5);
  const part = foreign / threads;
  const per = part / threads;
  let next = index * per;
  let left = shared === null ? 0 : part;
  let inPart = per;
  let idle = 0;
  let mp = 0;
  let saveStart = slots;
  let saveEnd = slots;
  let step = 0;
  let mallocs = 0;
  let frees = shared === null ? part : 0;
  let bytes = 0;
  let hash = 0;
  for (let it = 0; it < iterations || left > 0; it++) {
    // The shared blocks published so far; after the last iteration, wait for the rest.
    while (left > 0) {
      const p = Atomics.load(shared!, next);
      if (p === 0) {
        if (it < iterations) break;
        idle = pause(shared!, idle);
        continue;
      }
      m.free(p);
      frees++;
      left--;
      next++;
      if (--inPart === 0) {
        inPart = per;
        next += part - per;
      }
    }
    if (it >= iterations) break;
    step = step + 1 === STEP_SIZE.length ? 0 : step + 1;
    const size = STEP_SIZE[step];
    for (let c = STEP_COUNT[step]; c > 0; c--) {
      // Skip the window that still holds the previous round's blocks.
      if (mp === saveStart) mp = saveEnd;
      if (mp >= slots) {
        // The wrap takes this count's turn: no block is made for it.
        saveStart = saveEnd >= slots ? 0 : saveEnd;
        saveEnd = Math.min(saveStart + window, slots);
        frees += freeOutsideWindow(m, slot, slots, saveStart, saveEnd);
        mp = 0;
        continue;
      }
      const p = m.malloc(size);
      if (p === 0) throw new Error(`sh8bench: out of memory allocating ${size} bytes in thread ${index}`);
      if (u8 !== null) u8[p] = u8[p + size - 1] = mallocs;
      mallocs++;
      bytes += size;
      hash = (Math.imul(hash, 31) + size) | 0;
      slot[mp++] = p;
    }
  }
  // The residue: the blocks below the walk's position and the window's.
  const end = mp;
  for (mp = 0; mp < end; mp++, frees++) m.free(slot[mp]);
  for (mp = Math.max(mp, saveStart); mp < saveEnd; mp++, frees++) m.free(slot[mp]);
  return { mallocs, frees, bytes, hash: hash >>> 0 };
}

/** One more fruitless look: after SPINS_BEFORE_SLEEP in a row, sleep SLEEP_MS. Returns the new count. */
function pause(shared: Int32Array, idle: number): number {
  if (idle < SPINS_BEFORE_SLEEP) return idle + 1;
  // Waits on a slot that is 0 and that no one notifies: a sleep that lets the producer run.
  Atomics.wait(shared, shared.length - 1, 0, SLEEP_MS);
  return 0;
}

/** Each consumer's buffer slots and histogram steps: the suite divides both among the threads. */
export function sh8Shares(a: Sh8Args): { slots: number; iterations: number } {
  return { slots: Math.floor(a.heapSize / a.threads), iterations: Math.floor(a.iterations / a.threads) };
}

/** The run's fingerprint, without allocating: the consumers' loops are the same, the producer's a repeat of one size. */
export function sh8Fingerprint(a: Sh8Args): Fingerprint {
  const { slots, iterations } = sh8Shares(a);
  const foreign = sh8Foreign(a);
  const c = sh8Consume(countingAllocator(), null, null, 0, a.threads, slots, iterations, foreign);
  return {
    mallocs: c.mallocs * a.threads + foreign,
    frees: c.frees * a.threads,
    bytes: c.bytes * a.threads + foreign * FOREIGN_SIZE,
    hash: (Math.imul(c.hash, a.threads) + repeatHash(FOREIGN_SIZE, foreign)) >>> 0,
  };
}

/** The hash of n requests of one size (h = h * 31 + size, n times from 0), by doubling. */
function repeatHash(size: number, n: number): number {
  // h: the hash of the requests taken so far; run, rp: the hash of the next 2^j requests and 31^(2^j).
  let h = 0;
  let run = size | 0;
  let rp = 31;
  for (let k = n; k > 0; k = Math.floor(k / 2)) {
    if (k % 2 === 1) {
      h = (Math.imul(h, rp) + run) | 0;
    }
    run = (Math.imul(run, rp) + run) | 0;
    rp = Math.imul(rp, rp);
  }
  return h >>> 0;
}
