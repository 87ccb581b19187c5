/**
 * The random-mixed loop of lib/bench/workloads/WORKLOADS.md (and `fixed`, which is this
 * loop with min = max). It is what gets compared with the C harness compiled
 * -O2, so it stays lean: the RNG state is a local, slots are the allocator's
 * own slot array (an Int32Array for byte-offset pointers), `%` only sees
 * unsigned 31-bit values, and nothing is allocated inside the loop.
 */
import type { BenchAllocator, Slots } from '../adapters/allocator-adapter';
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
 * The measured loop runs as calls of this many cycles, so that every call
 * enters runCycles' regular optimised code (see WARMUP_CHUNK_CYCLES).
 */
const CHUNK_CYCLES = 1 << 14;

/**
 * The warm-up runs as calls of this many cycles. A call that loops long while
 * V8 compiles runCycles can have the loop compiled on-stack (OSR) instead; the
 * calls after it then enter that OSR code from the loop and never ask for the
 * regular code, which measured 10-20% slower. With calls this short, V8 asks
 * for and installs the regular code before OSR comes into play (checked with
 * --trace-opt over repeated runs: regular code every time, no OSR).
 */
const WARMUP_CHUNK_CYCLES = 128;

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
  slots: Slots<P>,
  state: Float64Array,
  from: number,
  to: number,
  ws: number,
  min: number,
  span: number,
): void {
  // Typed unsigned, `%` compiles to one unsigned division, as in C.
  ws >>>= 0;
  span >>>= 0;
  const m = a.target;
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
      m.free(p);
      slots[s] = empty;
    } else {
      x = xorshift32Next(x);
      const size = min + (xorshift32Draw(x) % span);
      const q = m.malloc(size);
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

/**
 * One run of the loop; only the cycles are timed, not the setup or the final frees.
 * `chunkCycles`: cycles per call of the inner loop (the warm-up uses short calls).
 */
export function randomMixedLoop<P>(
  a: BenchAllocator<P>,
  cycles: number,
  ws: number,
  seed: number,
  min: number,
  max: number,
  chunkCycles = CHUNK_CYCLES,
): LoopResult {
  const empty = a.empty;
  const slots = a.newSlots(ws);
  const state = new Float64Array(4);
  state[X] = xorshift32Seed(seed);
  const span = max - min + 1;

  const start = process.hrtime.bigint();
  for (let from = 0; from < cycles; from += chunkCycles) {
    runCycles(a, slots, state, from, Math.min(cycles, from + chunkCycles), ws, min, span);
  }
  const end = process.hrtime.bigint();

  for (let s = 0; s < ws; s++) {
    const p = slots[s];
    if (p !== empty) a.target.free(p);
  }
  const mallocs = state[MALLOCS];
  return {
    ops: cycles,
    seconds: Number(end - start) / 1e9,
    fingerprint: { mallocs, frees: cycles - mallocs, bytes: state[BYTES], hash: state[HASH] >>> 0 },
  };
}

/** The untimed warm-up run (see `warmupCycles` and `WARMUP_CHUNK_CYCLES`). */
export function warmUpRandomMixed<P>(a: BenchAllocator<P>, cycles: number, ws: number, seed: number, min: number, max: number): void {
  randomMixedLoop(a, warmupCycles(cycles), ws, seed, min, max, WARMUP_CHUNK_CYCLES);
}

/** The benchmark: the warm-up run, then the measured run. */
export function benchRandomMixed<P>(
  a: BenchAllocator<P>,
  cycles: number,
  ws: number,
  seed: number,
  min: number,
  max: number,
): LoopResult {
  warmUpRandomMixed(a, cycles, ws, seed, min, max);
  return randomMixedLoop(a, cycles, ws, seed, min, max);
}

// Kept out of the loop body so the loop stays small for the optimiser.
function outOfMemory(name: string, cycle: number, size: number, ws: number, max: number): Error {
  return new Error(
    `${name}: out of memory at cycle ${cycle} allocating ${size} bytes ` +
      `(working set ${ws} slots of up to ${max} bytes); the heap is too small for this workload`,
  );
}
