/**
 * The xmalloc-test loops of lib/bench/workloads/WORKLOADS.md, the same work as
 * scripts/native/xmalloc-test.c: after Lever and Boreham's malloc test as mimalloc-bench runs it.
 * Producer threads fill batches of 4096 blocks and push them on one shared stack (at most 100 batches
 * on it); consumer threads pop batches and free every block in them: every free is of a block another
 * thread allocated. A batch is itself a heap block: its next link, then its blocks, as int32 words from
 * its first 4-aligned byte; the stack's head, count and lock are words in shared memory.
 */
import type { Heap } from '../../alloc/heap';
import type { Fingerprint } from './random-mixed';
import { pauseAfter } from './spin-wait';
import { xorshift32Draw, xorshift32Next, xorshift32Seed } from './rng';

export interface XmallocArgs {
  threads: number;
  batches: number;
  size: number;
}

export const OBJECTS_PER_BATCH = 4096;
/** A batch's request: C's `struct batch` (a next pointer, then 4096 pointers, 8 bytes each). */
export const BATCH_BYTES = 8 + 8 * OBJECTS_PER_BATCH;
/** Most batches on the stack: a producer finding it full waits. */
export const QUEUE_LIMIT = 100;
/** SIZE 0: each block's size drawn from these (the original's `-s -1`). */
const MIXED_SIZES = [8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048];
export const MAX_SIZE = 2048;
/** Bytes of each block written (the original's memset), and its last byte. */
const WRITTEN = 128;

/** Shared words: the lock, the stack's head (a batch's pointer, 0 empty), its count, batches taken, a word that stays 0. */
const LOCK = 0;
const HEAD = 1;
const COUNT = 2;
const TAKEN = 3;
const QUIET = 4;
const QUEUE_WORDS = 5;

export function xmallocQueue(): SharedArrayBuffer {
  return new SharedArrayBuffer(QUEUE_WORDS * 4);
}

function acquire(q: Int32Array): void {
  let idle = 0;
  while (Atomics.compareExchange(q, LOCK, 0, 1) !== 0) idle = pauseAfter(q, QUIET, idle);
}

function release(q: Int32Array): void {
  Atomics.store(q, LOCK, 0);
}

/** The word index of a batch's next link; its blocks follow. */
function batchWords(b: number): number {
  return (b + 3) >> 2;
}

/**
 * Producer t: `batches` batches of 4096 blocks (SIZE bytes, or sizes drawn with xorshift32 seeded t + 1),
 * each block's first min(size, 128) bytes and last byte written with its index in the batch & 255,
 * each full batch pushed on `queue` (waiting while it holds QUEUE_LIMIT). `heap` null: a model that
 * only counts the requests.
 */
export function xmallocProduce(heap: Heap | null, queue: Int32Array | null, t: number, batches: number, size: number): Fingerprint {
  let x = xorshift32Seed(t + 1);
  let bytes = 0;
  let hash = 0;
  for (let n = 0; n < batches; n++) {
    bytes += BATCH_BYTES;
    hash = (Math.imul(hash, 31) + BATCH_BYTES) | 0;
    const b = heap === null ? 0 : heap.malloc(BATCH_BYTES);
    if (heap !== null && b === 0) throw new Error(`xmalloc-test: out of memory allocating batch ${n} in producer ${t}`);
    const w = batchWords(b);
    for (let i = 0; i < OBJECTS_PER_BATCH; i++) {
      let s = size;
      if (s === 0) {
        x = xorshift32Next(x);
        s = MIXED_SIZES[xorshift32Draw(x) % MIXED_SIZES.length];
      }
      bytes += s;
      hash = (Math.imul(hash, 31) + s) | 0;
      if (heap === null) continue;
      const p = heap.malloc(s);
      if (p === 0) throw new Error(`xmalloc-test: out of memory allocating ${s} bytes in producer ${t}`);
      const u8 = heap.u8;
      u8.fill(i & 255, p, p + Math.min(s, WRITTEN));
      u8[p + s - 1] = i;
      heap.i32[w + 1 + i] = p;
    }
    if (heap !== null) push(heap, queue!, b);
  }
  return { mallocs: batches * (OBJECTS_PER_BATCH + 1), frees: 0, bytes, hash: hash >>> 0 };
}

function push(heap: Heap, q: Int32Array, b: number): void {
  let idle = 0;
  for (;;) {
    acquire(q);
    if (q[COUNT] < QUEUE_LIMIT) {
      heap.i32[batchWords(b)] = q[HEAD];
      q[HEAD] = b;
      q[COUNT]++;
      release(q);
      return;
    }
    release(q);
    idle = pauseAfter(q, QUIET, idle);
  }
}

/**
 * A consumer: pops batches until `total` have been taken (by all consumers together), frees each
 * block (after checking its first byte) and the batch. Returns its frees.
 */
export function xmallocConsume(heap: Heap, q: Int32Array, total: number): Fingerprint {
  let frees = 0;
  let idle = 0;
  for (;;) {
    acquire(q);
    const b = q[HEAD];
    if (b === 0) {
      const done = q[TAKEN] === total;
      release(q);
      if (done) break;
      idle = pauseAfter(q, QUIET, idle);
      continue;
    }
    const w = batchWords(b);
    const i32 = heap.i32;
    q[HEAD] = i32[w];
    q[COUNT]--;
    q[TAKEN]++;
    release(q);
    idle = 0;
    const u8 = heap.u8;
    for (let i = 0; i < OBJECTS_PER_BATCH; i++) {
      const p = i32[w + 1 + i];
      if (u8[p] !== (i & 255)) throw new Error(`xmalloc-test: block ${i} of batch ${b} was overwritten`);
      heap.free(p);
    }
    heap.free(b);
    frees += OBJECTS_PER_BATCH + 1;
  }
  return { mallocs: 0, frees, bytes: 0, hash: 0 };
}

/** The run's fingerprint: the producers' requests; the consumers free every one. */
export function xmallocFingerprint(a: XmallocArgs): Fingerprint {
  const sum = { mallocs: 0, frees: 0, bytes: 0, hash: 0 };
  // With one size every producer makes the same requests.
  const distinct = a.size === 0 ? a.threads : 1;
  for (let t = 0; t < distinct; t++) {
    const f = xmallocProduce(null, null, t, a.batches, a.size);
    sum.mallocs += f.mallocs;
    sum.bytes += f.bytes;
    sum.hash = (sum.hash + f.hash) | 0;
  }
  const times = a.threads / distinct;
  return { mallocs: sum.mallocs * times, frees: sum.mallocs * times, bytes: sum.bytes * times, hash: Math.imul(sum.hash, times) >>> 0 };
}
