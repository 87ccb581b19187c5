/**
 * The mstress loops of lib/bench/workloads/WORKLOADS.md, the same work as scripts/native/mstress.c:
 * after mimalloc-bench's mstress (Daan Leijen). Each thread allocates blocks of 8 to 512 bytes (now and
 * then 100, 1000 or 10000 times that), frees two thirds of them at random, keeps a retained set to its
 * end, and swaps blocks with the other threads through shared transfer slots; between rounds the main
 * thread frees about half of what the slots hold. Every block carries its size, so whichever thread
 * frees it can check it.
 */
import type { Heap } from '../../alloc/heap';
import type { Fingerprint } from './random-mixed';
import { Xorshift32, xorshift32Draw, xorshift32Next, xorshift32Seed } from './rng';

export interface MstressArgs {
  threads: number;
  scale: number;
  iter: number;
}

/** Shared transfer slots (mstress's TRANSFERS). */
export const TRANSFERS = 1000;
/** Bytes per item: the original counts blocks in 8-byte words. */
const ITEM_BYTES = 8;
/** Item counts 2^0..2^4 for blocks a thread may free early, 2^0..2^6 for retained ones. */
const DATA_SHIFTS = 5;
const RETAINED_SHIFTS = 7;
/** The main thread's RNG for the transfer slots between rounds (the original's 43 * 43). */
const CLEANUP_SEED = 43 * 43;

/** Allocations thread t makes in a round before its retained ones: some threads do more. */
function mstressAllocs(t: number, scale: number): number {
  return 100 * scale * ((t % 8) + 1);
}

/** The byte every block is filled with, from its size (never 0, so a fresh page does not pass the check). */
function tagOf(size: number): number {
  return 0x80 | ((size >>> 3) & 0x7f);
}

/** The block's size word: the first 4-aligned word inside it (an 8-byte block still keeps its last byte). */
function sizeWord(p: number): number {
  return (p + 3) >> 2;
}

/** Frees a block after checking its size word and last byte: another thread's write there shows. */
function freeChecked(heap: Heap, p: number, who: string): void {
  const size = heap.i32[sizeWord(p)];
  if (!(size >= ITEM_BYTES && p + size <= heap.u8.length && heap.u8[p + size - 1] === tagOf(size))) {
    throw new Error(`mstress: block ${p} freed by ${who} was overwritten (size word ${size})`);
  }
  heap.free(p);
}

/**
 * Thread t's part of one round on `heap`, exchanging blocks through `transfer` (TRANSFERS int32 slots,
 * 0 empty). `heap` null: a model that allocates nothing and exchanges nothing, for the reference
 * fingerprint (its `frees` are not the run's: the run's count every block freed, wherever).
 */
export function mstressThread(heap: Heap | null, transfer: Int32Array | null, t: number, scale: number): Fingerprint {
  let x = xorshift32Seed((t + 1) * 43);
  const draw = (): number => {
    x = xorshift32Next(x);
    return xorshift32Draw(x);
  };
  const chance = (percent: number): boolean => draw() % 100 <= percent;
  let allocs = mstressAllocs(t, scale);
  let retain = Math.floor(allocs / 2);
  const data = new Int32Array(allocs);
  const retained = new Int32Array(retain);
  let top = 0;
  let retainedTop = 0;
  let mallocs = 0;
  let frees = 0;
  let bytes = 0;
  let hash = 0;
  const who = `thread ${t}`;
  const allocate = (items: number): number => {
    // 2% large: of those 2% times 10000, else 11% times 1000, else times 100.
    if (chance(1)) {
      if (chance(1)) items *= 10000;
      else if (chance(10)) items *= 1000;
      else items *= 100;
    }
    const size = items * ITEM_BYTES;
    mallocs++;
    bytes += size;
    hash = (Math.imul(hash, 31) + size) | 0;
    if (heap === null) return 1;
    const p = heap.malloc(size);
    if (p === 0) throw new Error(`mstress: out of memory allocating ${size} bytes in thread ${t}`);
    heap.u8.fill(tagOf(size), p, p + size);
    heap.i32[sizeWord(p)] = size;
    return p;
  };
  const release = (p: number): void => {
    if (p === 0) return;
    frees++;
    if (heap !== null) freeChecked(heap, p, who);
  };
  while (allocs > 0 || retain > 0) {
    if (retain === 0 || (chance(50) && allocs > 0)) {
      allocs--;
      data[top++] = allocate(1 << (draw() % DATA_SHIFTS));
    } else {
      retained[retainedTop++] = allocate(1 << (draw() % RETAINED_SHIFTS));
      retain--;
    }
    if (chance(66) && top > 0) {
      const i = draw() % top;
      release(data[i]);
      data[i] = 0;
    }
    if (chance(25) && top > 0) {
      const i = draw() % top;
      const k = draw() % TRANSFERS;
      if (transfer !== null) data[i] = Atomics.exchange(transfer, k, data[i]);
    }
  }
  for (let i = 0; i < retainedTop; i++) release(retained[i]);
  for (let i = 0; i < top; i++) release(data[i]);
  return { mallocs, frees, bytes, hash: hash >>> 0 };
}

/** The main thread's RNG for the transfer slots, kept from round to round. */
export function mstressCleanupRng(): Xorshift32 {
  return new Xorshift32(CLEANUP_SEED);
}

/**
 * Between rounds, on the main thread: each slot, on a coin toss (drawn for every slot), or every slot
 * after the last round, is emptied and its block freed. Returns the blocks freed.
 */
export function mstressCleanup(heap: Heap, transfer: Int32Array, rng: Xorshift32, last: boolean): number {
  let frees = 0;
  for (let i = 0; i < TRANSFERS; i++) {
    if (rng.draw() % 100 <= 50 || last) {
      const p = Atomics.exchange(transfer, i, 0);
      if (p !== 0) {
        freeChecked(heap, p, 'the main thread');
        frees++;
      }
    }
  }
  return frees;
}

/** One round of every thread, without allocating: the requests (equal in every round) and their bytes. */
export function mstressRound(a: MstressArgs): Fingerprint {
  const sum = { mallocs: 0, frees: 0, bytes: 0, hash: 0 };
  for (let t = 0; t < a.threads; t++) {
    const f = mstressThread(null, null, t, a.scale);
    sum.mallocs += f.mallocs;
    sum.bytes += f.bytes;
    sum.hash = (sum.hash + f.hash) | 0;
  }
  return { ...sum, frees: sum.mallocs, hash: sum.hash >>> 0 };
}

/** The run's fingerprint: every round repeats the threads' requests, and every block is freed by the end. */
export function mstressFingerprint(a: MstressArgs): Fingerprint {
  const r = mstressRound(a);
  return { mallocs: r.mallocs * a.iter, frees: r.mallocs * a.iter, bytes: r.bytes * a.iter, hash: Math.imul(r.hash, a.iter) >>> 0 };
}
