/**
 * The rptest loop of lib/bench/workloads/WORKLOADS.md, the same work as scripts/native/rptest.c:
 * after rpmalloc-benchmark (Mattias Jansson) as mimalloc-bench runs it, every block written whole.
 * Each thread keeps ALLOCS slots that it frees and refills with prime strides, sizes from a table;
 * every CROSSRATE loops it sends a batch of fresh blocks to another thread, which frees them.
 * Batches travel as heap blocks ([next, count, blocks...] as int32 words) on a lock-free stack per
 * thread whose head is a word in shared memory.
 */
import type { Heap } from '../../alloc/heap';
import type { Fingerprint } from './random-mixed';
import { Xorshift32 } from './rng';

export interface RptestArgs {
  threads: number;
  crossRate: number;
  loops: number;
  allocs: number;
  ops: number;
  min: number;
  max: number;
  /** 0 even, 1 linear drop-off, 2 exponential drop-off. */
  sizeMode: number;
  seed: number;
}

const SIZES = 2000;
const ALLOC_STEPS = 311;
const FREE_STEPS = 257;
const ITERATIONS = 2;
const FILL = 0xcd;
const FILL_WORD = 0xcdcdcdcd | 0;
const PRIMES = [7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193, 197, 199];

/** Shared words: thread t's inbox head at t * LINE (each on a 64-byte line of its own), then the arrival count and a word that stays 0. */
const LINE = 16;
const SPINS_BEFORE_SLEEP = 64;
const SLEEP_MS = 0.05;

/** The tables every thread reads: sizes, ops per loop, and the slot strides. */
export interface RptestTables {
  size: Int32Array;
  allocOps: Int32Array;
  freeOps: Int32Array;
  allocStride: number;
  freeStride: number;
}

export function rptestTables(a: RptestArgs): RptestTables {
  const g = new Xorshift32(a.seed);
  const range = a.max - a.min;
  const even = new Float64Array(SIZES);
  for (let i = 0; i < SIZES; i++) even[i] = Math.floor((range * (g.draw() % 100000) + 50000) / 100000);
  const allocOps = new Int32Array(ALLOC_STEPS);
  const freeOps = new Int32Array(FREE_STEPS);
  for (let i = 0; i < ALLOC_STEPS; i++) allocOps[i] = Math.floor((a.ops * (30 + (g.draw() % 70))) / 100);
  for (let i = 0; i < FREE_STEPS; i++) freeOps[i] = Math.floor((a.ops * (30 + (g.draw() % 70)) * 8) / 1000);
  const size = new Int32Array(SIZES);
  for (let i = 0; i < SIZES; i++) {
    const x = even[i];
    const y = even[(i + 1) % SIZES];
    const e = even[(i + 2) % SIZES];
    let extra = x;
    if (range === 0) extra = 0;
    else if (a.sizeMode === 1) extra = Math.floor((e * Math.abs(range - x - y)) / range);
    else if (a.sizeMode === 2) extra = Math.floor((Math.floor((e * (range - x)) / range) * (range - y)) / range);
    size[i] = a.min + extra;
  }
  const allocAt = strideFrom(0, a.allocs);
  const freeAt = strideFrom(allocAt + 1, a.allocs);
  return { size, allocOps, freeOps, allocStride: PRIMES[allocAt], freeStride: PRIMES[freeAt] };
}

/** Index of the first prime from `from` on that does not divide n. */
function strideFrom(from: number, n: number): number {
  let i = from;
  while (i < PRIMES.length && n % PRIMES[i] === 0) i++;
  if (i === PRIMES.length) throw new Error(`rptest: ALLOCS (${n}) is divisible by every stride prime (7 to 199)`);
  return i;
}

/** A problem across the arguments, or null. */
export function checkRptest(a: RptestArgs): string | null {
  if (a.max < a.min) return `MAX (${a.max}) must be at least MIN (${a.min})`;
  // ALLOCS needs two stride primes that do not divide it; below 7 * 11 * ... * 199 it always has them.
  return null;
}

export function rptestShared(threads: number): SharedArrayBuffer {
  return new SharedArrayBuffer((threads + 1) * LINE * 4);
}

/** Thread `me`'s whole run; `shared` holds the inboxes (rptestShared). */
export function rptestThread(heap: Heap, shared: Int32Array, t: RptestTables, a: RptestArgs, me: number): Fingerprint {
  const u8 = heap.u8;
  const i32 = heap.i32;
  const slots = a.allocs;
  const slot = new Int32Array(slots);
  const threads = a.threads;
  const arrived = threads * LINE;
  const sleepWord = arrived + 1;
  const inbox = me * LINE;
  const f = { mallocs: 0, frees: 0, bytes: 0, hash: 0 };
  const make = (size: number, kind: number): number => {
    let p: number;
    if (kind === 0 || size >= 4096) p = heap.calloc(1, size);
    else {
      p = heap.alignedAlloc(kind === 1 ? 8 : 16, size);
      if (p !== 0) fill(u8, i32, p, size);
    }
    if (p === 0) throw new Error(`rptest: out of memory allocating ${size} bytes in thread ${me}`);
    u8[p] = u8[p + size - 1] = f.mallocs;
    f.mallocs++;
    f.bytes += size;
    f.hash = (Math.imul(f.hash, 31) + size) | 0;
    return p;
  };
  const freeBatches = (b: number): void => {
    while (b !== 0) {
      const w = b >> 2;
      const next = i32[w];
      const count = i32[w + 1];
      for (let k = 0; k < count; k++) heap.free(i32[w + 2 + k]);
      f.frees += count + 1;
      heap.free(b);
      b = next;
    }
  };
  let allocAt = 0;
  let freeAt = 0;
  let target = 0;
  for (let iter = 0; iter < ITERATIONS; iter++) {
    let si = ((me + 1) * ((iter + 1) * 37)) % SIZES;
    for (let loop = 0; loop < a.loops; loop++) {
      const taken = Atomics.exchange(shared, inbox, 0);
      const nf = t.freeOps[(iter + loop) % FREE_STEPS];
      const na = t.allocOps[(iter + loop) % ALLOC_STEPS];
      for (let k = 0; k < nf; k++) {
        if (slot[freeAt] !== 0) {
          heap.free(slot[freeAt]);
          slot[freeAt] = 0;
          f.frees++;
        }
        freeAt = (freeAt + t.freeStride) % slots;
      }
      freeBatches(taken);
      for (let k = 0; k < na; k++) {
        if (slot[allocAt] !== 0) {
          heap.free(slot[allocAt]);
          f.frees++;
        }
        slot[allocAt] = make(t.size[(si + 2) % SIZES], (si + k) % 3);
        allocAt = (allocAt + t.allocStride) % slots;
        si = (si + 1) % SIZES;
      }
      if (threads > 1 && a.crossRate > 0 && loop % a.crossRate === 0) {
        const bytes = 16 + 8 * na;
        const b = heap.alignedAlloc(16, bytes);
        if (b === 0) throw new Error(`rptest: out of memory allocating a batch of ${bytes} bytes in thread ${me}`);
        fill(u8, i32, b, bytes);
        f.mallocs++;
        f.bytes += bytes;
        f.hash = (Math.imul(f.hash, 31) + bytes) | 0;
        const w = b >> 2;
        i32[w + 1] = na;
        for (let k = 0; k < na; k++) {
          i32[w + 2 + k] = make(t.size[(si + 2) % SIZES], (si + k) % 3);
          si = (si + 1) % SIZES;
        }
        target = (target + 1) % threads;
        if (target === me) target = (target + 1) % threads;
        const to = target * LINE;
        for (;;) {
          const head = Atomics.load(shared, to);
          i32[w] = head;
          if (Atomics.compareExchange(shared, to, head, b) === head) break; // publishes the batch
        }
      }
    }
    // The iteration's end: take batches until every thread has sent its last, then free everything.
    Atomics.add(shared, arrived, 1);
    let idle = 0;
    while (Atomics.load(shared, arrived) < (iter + 1) * threads) {
      freeBatches(Atomics.exchange(shared, inbox, 0));
      if (++idle > SPINS_BEFORE_SLEEP) {
        Atomics.wait(shared, sleepWord, 0, SLEEP_MS);
        idle = 0;
      }
    }
    for (let s = 0; s < slots; s++) {
      if (slot[s] !== 0) {
        heap.free(slot[s]);
        slot[s] = 0;
        f.frees++;
      }
    }
    freeBatches(Atomics.exchange(shared, inbox, 0));
  }
  return { ...f, hash: f.hash >>> 0 };
}

/**
 * Writes FILL into a block at least 4-aligned, as C's memset: by 32-bit words, then the tail's bytes.
 * On a SharedArrayBuffer, V8's Uint8Array fill stores byte by byte, about 8x the time of an Int32Array
 * fill of the same bytes (measured: 20,000 fills of 8,000 bytes, 430-590 ms against 50-75 ms).
 */
function fill(u8: Uint8Array, i32: Int32Array, p: number, size: number): void {
  const end = p + size;
  i32.fill(FILL_WORD, p >> 2, end >> 2);
  for (let q = end & ~3; q < end; q++) u8[q] = FILL;
}

/**
 * The run's fingerprint, without allocating: each thread's requests follow from the tables alone,
 * and every block is freed by the end (by whichever thread), so frees = mallocs.
 */
export function rptestFingerprint(a: RptestArgs): Fingerprint {
  const t = rptestTables(a);
  let mallocs = 0;
  let bytes = 0;
  let hash = 0;
  for (let me = 0; me < a.threads; me++) {
    let h = 0;
    const request = (size: number) => {
      mallocs++;
      bytes += size;
      h = (Math.imul(h, 31) + size) | 0;
    };
    for (let iter = 0; iter < ITERATIONS; iter++) {
      let si = ((me + 1) * ((iter + 1) * 37)) % SIZES;
      for (let loop = 0; loop < a.loops; loop++) {
        const na = t.allocOps[(iter + loop) % ALLOC_STEPS];
        for (let k = 0; k < na; k++, si = (si + 1) % SIZES) request(t.size[(si + 2) % SIZES]);
        if (a.threads > 1 && a.crossRate > 0 && loop % a.crossRate === 0) {
          request(16 + 8 * na);
          for (let k = 0; k < na; k++, si = (si + 1) % SIZES) request(t.size[(si + 2) % SIZES]);
        }
      }
    }
    hash = (hash + h) | 0;
  }
  return { mallocs, frees: mallocs, bytes, hash: hash >>> 0 };
}
