/**
 * The cross-thread workload of lib/bench/workloads/WORKLOADS.md, the same work as
 * scripts/native/cross-thread.c: THREADS workers in a ring, each allocating blocks and handing every
 * one to the next worker, which frees it, so every free is of another thread's block. The hand-off
 * is one bounded single-producer single-consumer ring per worker pair in shared memory.
 * Pointers travel as int32 byte offsets, so the loop runs on allocators whose pointers are numbers
 * in a heap every worker shares (hakmem's shared heap).
 */
import type { BenchAllocator, MallocFree } from '../adapters/allocator-adapter';
import type { Fingerprint } from './random-mixed';
import { xorshift32Draw, xorshift32Next, xorshift32Seed } from './rng';

export interface CrossThreadParams {
  /** Blocks each worker allocates (and hands on). */
  cycles: number;
  /** Capacity of each ring: blocks in flight from one worker to the next. */
  ws: number;
  seed: number;
  min: number;
  max: number;
  threads: number;
}

/**
 * A ring's Int32 words: the consumer's index and the producer's index on their own 64-byte lines
 * (neither thread's writes invalidate the line the other one writes), then WS + 1 slots (one always
 * empty: equal indices mean empty, and no counter ever wraps).
 */
const HEAD = 0;
const TAIL = 16;
const SLOTS = 32;
const LINE_WORDS = 16;

/** Words of one ring, rounded up to whole 64-byte lines so that rings share no line. */
function ringWords(ws: number): number {
  return Math.ceil((SLOTS + ws + 1) / LINE_WORDS) * LINE_WORDS;
}

/** The shared memory of every ring: ring t carries blocks from worker t to worker (t + 1) % THREADS. */
export function crossThreadRings(threads: number, ws: number): SharedArrayBuffer {
  return new SharedArrayBuffer(threads * ringWords(ws) * 4);
}

/** Ring `t` of the buffer. */
export function ringOf(buffer: SharedArrayBuffer, t: number, ws: number): Int32Array {
  return new Int32Array(buffer, t * ringWords(ws) * 4, ringWords(ws));
}

/** Cycles of the TypeScript warm-up: a worker's untimed run on a ring of its own before the start. */
export function crossThreadWarmupCycles(cycles: number): number {
  return Math.min(cycles, 100_000);
}

/** Fruitless tries (nothing to push, nothing to free) before a worker sleeps; and for how long. */
const SPINS_BEFORE_SLEEP = 64;
const SLEEP_MS = 0.05;

/**
 * Worker `index`'s part of the run: allocates `cycles` blocks onto ring `out` and frees the `cycles`
 * blocks the previous worker sends on ring `inbound`. Returns the fingerprint of its mallocs and
 * frees. The caller starts every worker together and times them.
 */
export function crossThreadWorker(
  a: BenchAllocator<number>,
  out: Int32Array,
  inbound: Int32Array,
  index: number,
  p: CrossThreadParams,
): Fingerprint {
  const m = a.target;
  const cycles = p.cycles;
  const slots = (p.ws + 1) >>> 0;
  const min = p.min;
  const span = (p.max - p.min + 1) >>> 0;
  let x = xorshift32Seed((p.seed + index) >>> 0);
  let tail = 0;
  let freed = 0;
  let bytes = 0;
  let hash = 0;
  let idle = 0;
  for (let i = 0; i < cycles; i++) {
    freed += drain(m, inbound, slots);
    x = xorshift32Next(x);
    const size = min + (xorshift32Draw(x) % span);
    const ptr = m.malloc(size);
    if (ptr === 0) throw outOfMemory(a.name, index, i, size, p);
    a.touch(ptr, size, i & 255);
    bytes += size;
    hash = (Math.imul(hash, 31) + size) | 0;
    const next = tail + 1 === slots ? 0 : tail + 1;
    // Full: free what came in meanwhile, and wait for the next worker to take a block.
    while (next === Atomics.load(out, HEAD)) {
      const n = drain(m, inbound, slots);
      freed += n;
      idle = n === 0 ? pause(out, idle) : 0;
    }
    out[SLOTS + tail] = ptr;
    Atomics.store(out, TAIL, next); // publishes the slot and the block's bytes
    tail = next;
  }
  // The previous worker sends exactly `cycles` blocks: free them all.
  while (freed < cycles) {
    const n = drain(m, inbound, slots);
    freed += n;
    idle = n === 0 ? pause(inbound, idle) : 0;
  }
  return { mallocs: cycles, frees: freed, bytes, hash: hash >>> 0 };
}

/** Frees every block on the ring; returns how many. Consumer side only. */
function drain(m: MallocFree<number>, ring: Int32Array, slots: number): number {
  let head = ring[HEAD]; // only this thread writes it
  const tail = Atomics.load(ring, TAIL);
  let n = 0;
  while (head !== tail) {
    m.free(ring[SLOTS + head]);
    head = head + 1 === slots ? 0 : head + 1;
    n++;
  }
  if (n !== 0) Atomics.store(ring, HEAD, head);
  return n;
}

/** One more fruitless try: after SPINS_BEFORE_SLEEP of them in a row, sleep SLEEP_MS. Returns the new count. */
function pause(ring: Int32Array, idle: number): number {
  if (idle < SPINS_BEFORE_SLEEP) return idle + 1;
  // Waits on a word no one notifies: a sleep that lets an oversubscribed core run the other worker.
  Atomics.wait(ring, LINE_WORDS - 1, 0, SLEEP_MS);
  return 0;
}

function outOfMemory(name: string, worker: number, cycle: number, size: number, p: CrossThreadParams): Error {
  return new Error(
    `${name}: out of memory in worker ${worker} at cycle ${cycle} allocating ${size} bytes ` +
      `(cross-thread, ${p.threads} workers, rings of ${p.ws} blocks of up to ${p.max} bytes); the heap is too small`,
  );
}
