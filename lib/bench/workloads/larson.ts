/**
 * The larson loop of lib/bench/workloads/WORKLOADS.md, the same work as
 * scripts/native/larson.c. `larson` runs one chain on this thread, its
 * generations one after another; hakmem's threaded runs use `runGeneration`
 * and `warmUp` from worker threads (lib/bench/threads).
 * Lean like the C loop: the RNG is a monomorphic class V8 inlines, slots are
 * the allocator's slot array, and nothing is allocated inside the loop.
 */
import type { BenchAllocator, Slots } from '../adapters/allocator-adapter';
import { Lran2 } from './lran2';
import type { Fingerprint, LoopResult } from './random-mixed';

/** When larson stops: after `seconds` (larson's form), or after exactly
 * `generations` worker generations per chain (a deterministic fingerprint). */
export type LarsonStop = { seconds: number } | { generations: number };

/** larson's workload, as every form of the benchmark (CLI, loop, threads) takes it. */
export interface LarsonWorkload {
  /** Block sizes are drawn from [min, max); min = max means always min. */
  min: number;
  max: number;
  /** Slots per thread. */
  chunks: number;
  /** A generation does rounds * chunks operations. */
  rounds: number;
  seed: number;
  threads: number;
}

export interface LarsonParams extends LarsonWorkload {
  stop: LarsonStop;
}

export interface LarsonResult extends LoopResult {
  threads: number;
}

/** The benchmark: warm-up (untimed), then generations until `params.stop`. */
export function larson<P>(a: BenchAllocator<P>, params: LarsonParams): LarsonResult {
  const { min, max, chunks, rounds, seed, threads, stop } = params;
  checkParams(params);
  if (threads !== 1) {
    throw new Error(
      `larson: threads = ${threads}, but larson() runs one chain on this thread; threaded runs ` +
        `need a shared hakmem heap (lib/bench/threads) or the native harness`,
    );
  }
  const range = max - min;
  const g = new Lran2(seed);
  const slots = warmUp(a, chunks, min, range, g);
  const rng = new Lran2(g.next());
  const generations = 'generations' in stop ? stop.generations : Infinity;
  const stopMs = 'seconds' in stop ? stop.seconds * 1000 : Infinity;

  const acc = newChainTotals();
  const start = performance.now();
  const deadline = start + stopMs;
  for (let gen = 0; gen < generations; gen++) {
    // A new generation takes the chain over. On one thread that is a no-op:
    // the same thread carries on with the chain's RNG and slots.
    if (runGeneration(a, slots, rng, chunks, rounds, min, range, acc, deadline)) break;
  }
  const seconds = (performance.now() - start) / 1000;

  for (let s = 0; s < chunks; s++) a.target.free(slots[s]);
  return { ops: acc[MALLOCS], seconds, fingerprint: chainFingerprint(acc), threads };
}

// A chain's running totals, carried across generations (and across threads).
const MALLOCS = 0;
const BYTES = 1;
const HASH = 2;

export function newChainTotals(): Float64Array {
  return new Float64Array(3);
}

export function chainFingerprint(acc: Float64Array): Fingerprint {
  return { mallocs: acc[MALLOCS], frees: acc[MALLOCS], bytes: acc[BYTES], hash: acc[HASH] >>> 0 };
}

/**
 * One generation of a chain: ROUNDS x CHUNKS times free a random victim and malloc a random size
 * into its slot. Returns true when the deadline passed (checked once a round).
 */
export function runGeneration<P>(
  a: BenchAllocator<P>,
  slots: Slots<P>,
  rng: Lran2,
  chunks: number,
  rounds: number,
  min: number,
  range: number,
  acc: Float64Array,
  deadline: number,
): boolean {
  const m = a.target;
  const empty = a.empty;
  let mallocs = acc[MALLOCS];
  let bytes = acc[BYTES];
  let hash = acc[HASH] | 0;
  let value = 0;
  let stopped = false;
  for (let r = 0; r < rounds && !stopped; r++) {
    for (let c = 0; c < chunks; c++) {
      const victim = rng.next() % chunks;
      m.free(slots[victim]);
      const size = range === 0 ? min : min + (rng.next() % range);
      const p = m.malloc(size);
      if (p === empty) throw outOfMemory(a.name, size, chunks, min + range);
      a.touch(p, size, value);
      value = (value + 1) & 255;
      slots[victim] = p;
      mallocs++;
      bytes += size;
      // Victims too: unlike random-mixed's slots, they never show in the sizes.
      hash = (Math.imul(Math.imul(hash, 31) + victim, 31) + size) | 0;
    }
    // The clock is read once a round, not once an op as the C stop flag is.
    if (performance.now() >= deadline) stopped = true;
  }
  acc[MALLOCS] = mallocs;
  acc[BYTES] = bytes;
  acc[HASH] = hash;
  return stopped;
}

/** Larson's warm-up, untimed: allocate every slot, shuffle, churn 4x. */
export function warmUp<P>(a: BenchAllocator<P>, n: number, min: number, range: number, g: Lran2): Slots<P> {
  const slots = a.newSlots(n);
  for (let i = 0; i < n; i++) {
    const size = range === 0 ? min : min + (g.next() % range);
    slots[i] = mallocChecked(a, size, n, min + range);
    a.touch(slots[i], size, i & 255);
  }
  for (let i = n; i > 0; i--) {
    const j = g.next() % i;
    const tmp = slots[j];
    slots[j] = slots[i - 1];
    slots[i - 1] = tmp;
  }
  for (let i = 0; i < 4 * n; i++) {
    const victim = g.next() % n;
    a.target.free(slots[victim]);
    const size = range === 0 ? min : min + (g.next() % range);
    slots[victim] = mallocChecked(a, size, n, min + range);
    a.touch(slots[victim], size, i & 255);
  }
  return slots;
}

function mallocChecked<P>(a: BenchAllocator<P>, size: number, chunks: number, max: number): P {
  const p = a.target.malloc(size);
  if (p === a.empty) throw outOfMemory(a.name, size, chunks, max);
  return p;
}

function checkParams(p: LarsonParams): void {
  const whole = (v: number, lo: number) => Number.isSafeInteger(v) && v >= lo;
  const bad = (what: string) => new Error(`larson: ${what} (got ${JSON.stringify(p)})`);
  if (!whole(p.min, 1) || !whole(p.max, p.min)) throw bad('need whole sizes 1 <= min <= max');
  if (!whole(p.chunks, 1) || !whole(p.rounds, 1)) throw bad('chunks and rounds must be whole numbers >= 1');
  if (!whole(p.seed, 0) || p.seed > 0x7fffffff) throw bad('seed must be a whole number in [0, 2^31-1]');
  if (!whole(p.threads, 1)) throw bad('threads must be a whole number >= 1');
  const s = p.stop;
  if ('generations' in s ? !whole(s.generations, 1) : !(s.seconds > 0)) {
    throw bad('stop must be { seconds > 0 } or { generations >= 1 }');
  }
}

// Kept out of the loop body so the loop stays small for the optimiser.
function outOfMemory(name: string, size: number, chunks: number, max: number): Error {
  return new Error(
    `${name}: out of memory allocating ${size} bytes (larson, ${chunks} slots of up to ` +
      `${max} bytes); the heap is too small for this workload`,
  );
}
