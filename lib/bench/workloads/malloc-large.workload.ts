/**
 * malloc-large [ITERS] [SEED]: mimalloc-bench's large-block test (Leonid Stolyarov's, its issue
 * 447): up to 20 blocks of 5 to 25 MiB live, each replaced by a fresh one of a random size, written whole.
 * Specified in WORKLOADS.md; C: scripts/native/malloc-large.c.
 */
import type { ReplayAllocator } from '../adapters/allocator-adapter';
import type { Fingerprint, LoopResult } from './random-mixed';
import { Xorshift32, xorshift32Draw, xorshift32Next, xorshift32Seed } from './rng';
import type { Workload } from './workload';

export interface MallocLargeArgs {
  iters: number;
  seed: number;
}

const BUFFERS = 20;
const MIN_SIZE = 5 * 2 ** 20;
const MAX_SIZE = 25 * 2 ** 20;
const SPAN = MAX_SIZE - MIN_SIZE + 1;
/** The TypeScript warm-up's replacements (untimed). */
const WARMUP_ITERS = 20;

export const mallocLargeWorkload: Workload<MallocLargeArgs> = {
  name: 'malloc-large',
  description:
    'large blocks: ITERS times a random one of 20 slots gets a new\n' +
    'block of 5..25 MiB, written whole, and its old block is freed',
  args: [
    { name: 'ITERS', key: 'iters', help: 'replacements (mimalloc-bench: 2000)', min: 1, max: 2 ** 31 - 1, default: 500 },
    { name: 'SEED', key: 'seed', help: 'xorshift32 seed', min: 0, max: 2 ** 32 - 1, default: 42 },
  ],
  // 20 live blocks and the one replacing a slot's: 21 of at most 25 MiB, with room for the tiers' own pages.
  ts: { kind: 'single', sizing: () => ({ slots: BUFFERS + 1, maxSize: MAX_SIZE, heapBytes: (BUFFERS + 1) * MAX_SIZE + 64 * 2 ** 20 }), run: mallocLarge },
  native: { harness: 'malloc-large', argv: (a) => [a.iters, a.seed] },
  fingerprint: mallocLargeFingerprint,
  suite: { default: [500, 42], tiny: [30, 42] },
};

function mallocLarge<P>(a: ReplayAllocator<P>, args: MallocLargeArgs): LoopResult {
  replacements(a, Math.min(WARMUP_ITERS, args.iters), (args.seed + 1) >>> 0);
  const start = process.hrtime.bigint();
  const f = replacements(a, args.iters, args.seed);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { ops: args.iters, seconds, fingerprint: f };
}

/** The loop; its blocks are freed after it (inside the time, as the program's exit frees them). */
function replacements<P>(a: ReplayAllocator<P>, iters: number, seed: number): Fingerprint {
  const m = a.target;
  const slots = a.newSlots(BUFFERS);
  let x = xorshift32Seed(seed);
  let frees = 0;
  let bytes = 0;
  let hash = 0;
  for (let i = 0; i < iters; i++) {
    x = xorshift32Next(x);
    const b = xorshift32Draw(x) % BUFFERS;
    x = xorshift32Next(x);
    const size = MIN_SIZE + (xorshift32Draw(x) % SPAN);
    const p = m.malloc(size);
    if (p === a.empty) throw new Error(`${a.name}: out of memory allocating ${size} bytes (malloc-large, replacement ${i})`);
    a.fill(p, size, i & 255);
    const old = slots[b];
    if (old !== a.empty) {
      m.free(old);
      frees++;
    }
    slots[b] = p;
    bytes += size;
    hash = (Math.imul(Math.imul(hash, 31) + b, 31) + size) | 0;
  }
  for (let s = 0; s < BUFFERS; s++) {
    if (slots[s] !== a.empty) {
      m.free(slots[s]);
      frees++;
    }
  }
  return { mallocs: iters, frees, bytes, hash: hash >>> 0 };
}

/** The fingerprint of these arguments, from the same draws, without allocating. */
export function mallocLargeFingerprint(args: MallocLargeArgs): Fingerprint {
  const rng = new Xorshift32(args.seed);
  let bytes = 0;
  let hash = 0;
  for (let i = 0; i < args.iters; i++) {
    const b = rng.draw() % BUFFERS;
    const size = MIN_SIZE + (rng.draw() % SPAN);
    bytes += size;
    hash = (Math.imul(Math.imul(hash, 31) + b, 31) + size) | 0;
  }
  return { mallocs: args.iters, frees: args.iters, bytes, hash: hash >>> 0 };
}
