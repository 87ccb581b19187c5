/**
 * The random-mixed loop of lib/bench/WORKLOADS.md (and `fixed`, which is this
 * loop with min = max). It is what gets compared with the C harness compiled
 * -O2, so it stays lean: the RNG state is a local, slots are a packed JS array,
 * `%` only sees 31-bit values, and nothing is allocated inside the loop.
 */
import type { BenchAllocator } from './allocator-adapter';
import { xorshift32Draw, xorshift32Next, xorshift32Seed } from './rng';

/** Proof of which requests a run made: equal fingerprints mean the same work. */
export interface Fingerprint {
  mallocs: number;
  frees: number;
  /** Sum of the requested sizes. */
  bytes: number;
  /** hash = hash * 31 + size per malloc, unsigned 32-bit. */
  hash: number;
}

export interface LoopResult {
  ops: number;
  seconds: number;
  fingerprint: Fingerprint;
}

/**
 * The loop runs as calls of this many cycles. A single long call would spend
 * its run in the code V8 compiles on-stack (OSR) from partial feedback, which
 * measured 20% slower than the regular optimised code; with chunks, every call
 * after the first few enters the regular code. The warm-up is a dozen calls of
 * this size, so the measured run starts in the regular code (checked with
 * --trace-opt --trace-deopt: no deopts of runCycles in the measured run).
 */
const CHUNK_CYCLES = 1 << 14;

// Loop state carried between chunks: the RNG state, then the fingerprint sums.
const X = 0;
const MALLOCS = 1;
const BYTES = 2;
const HASH = 3;

/**
 * Cycles of the warm-up run, a smaller run of the same loop on the same
 * allocator before the measured one: it lets V8 optimise the loop and the
 * allocator's paths (short runs measure cold start), and its blocks are all
 * freed again before the measured run starts.
 */
export function warmupCycles(cycles: number): number {
  return Math.min(cycles, 200_000);
}

/** Cycles `from` .. `to`-1 of the loop: the measured code. */
function runCycles<P>(
  a: BenchAllocator<P>,
  slots: P[],
  state: Float64Array,
  from: number,
  to: number,
  ws: number,
  min: number,
  span: number,
): void {
  const empty = a.empty;
  let x = state[X] | 0;
  let mallocs = state[MALLOCS];
  let bytes = state[BYTES]; // a double: the sum passes 2^31 in long runs
  let hash = state[HASH] | 0;
  for (let i = from; i < to; i++) {
    x = xorshift32Next(x);
    const s = xorshift32Draw(x) % ws;
    const p = slots[s];
    if (p !== empty) {
      a.free(p);
      slots[s] = empty;
    } else {
      x = xorshift32Next(x);
      const size = min + (xorshift32Draw(x) % span);
      const q = a.malloc(size);
      if (q === empty) throw outOfMemory(a.name, i, size, ws, min + span - 1);
      a.touch(q, size, i & 255);
      slots[s] = q;
      mallocs++;
      bytes += size;
      hash = (Math.imul(hash, 31) + size) | 0;
    }
  }
  state[X] = x;
  state[MALLOCS] = mallocs;
  state[BYTES] = bytes;
  state[HASH] = hash;
}

/** One run of the loop; only the cycles are timed, not the setup or the final frees. */
export function randomMixedLoop<P>(
  a: BenchAllocator<P>,
  cycles: number,
  ws: number,
  seed: number,
  min: number,
  max: number,
): LoopResult {
  const empty = a.empty;
  // Filled by push, not new Array(ws).fill(): keeps the elements kind packed.
  const slots: P[] = [];
  for (let s = 0; s < ws; s++) slots.push(empty);
  const state = new Float64Array(4);
  state[X] = xorshift32Seed(seed);
  const span = max - min + 1;

  const start = process.hrtime.bigint();
  for (let from = 0; from < cycles; from += CHUNK_CYCLES) {
    runCycles(a, slots, state, from, Math.min(cycles, from + CHUNK_CYCLES), ws, min, span);
  }
  const end = process.hrtime.bigint();

  for (let s = 0; s < ws; s++) {
    const p = slots[s];
    if (p !== empty) a.free(p);
  }
  const mallocs = state[MALLOCS];
  return {
    ops: cycles,
    seconds: Number(end - start) / 1e9,
    fingerprint: { mallocs, frees: cycles - mallocs, bytes: state[BYTES], hash: state[HASH] >>> 0 },
  };
}

/** The benchmark: a warm-up run (see `warmupCycles`), then the measured run. */
export function benchRandomMixed<P>(
  a: BenchAllocator<P>,
  cycles: number,
  ws: number,
  seed: number,
  min: number,
  max: number,
): LoopResult {
  randomMixedLoop(a, warmupCycles(cycles), ws, seed, min, max);
  return randomMixedLoop(a, cycles, ws, seed, min, max);
}

// Kept out of the loop body so the loop stays small for the optimiser.
function outOfMemory(name: string, cycle: number, size: number, ws: number, max: number): Error {
  return new Error(
    `${name}: out of memory at cycle ${cycle} allocating ${size} bytes ` +
      `(working set ${ws} slots of up to ${max} bytes); the heap is too small for this workload`,
  );
}
