/**
 * Model-based randomized test of the allocator. Every preset, in both builds, runs a seeded random mix
 * of malloc/calloc/realloc/free against a shadow model of the live blocks (pointer -> size and a
 * content pattern), checking on every operation that:
 *  - a pointer is returned unless the heap may really be full (OOM),
 *  - every block lies inside the heap and no two live blocks overlap (from the header byte to the end
 *    of the usable size; interval check against the sorted live blocks),
 *  - usableSize(ptr) >= the size asked for,
 *  - the bytes written into a block are still there when it is freed or reallocated (realloc moves the
 *    first min(old, new) bytes), and calloc returns zeroed bytes,
 *  - heap.check() passes every CHECK_EVERY operations and at the end.
 * Three workload profiles: "mixed" (16 MiB heap, 384 slots: mostly tiny, some mid, few large; a malloc
 * may return 0 only with more than 4 MiB live), "pressure" (4 MiB heap, up to 8192 live blocks, phases
 * that grow the live set until the heap runs out and churn near full, a few hot sizes per phase) and
 * "churn" (8 MiB heap, tiny front caches, small refills and 1 MiB SuperSlabs, so blocks, slabs and
 * SuperSlabs move between layers all the time). Finally everything is freed and trim() runs; heapBytes
 * must fall back to a small value. The test prints the total number of operations it ran.
 *
 * HAKMEM_MODEL_OPS (operations per preset, build and profile; default 100000) and HAKMEM_MODEL_SEED
 * change the run locally, e.g.
 *   HAKMEM_MODEL_OPS=200000 node -r ts-node/register/transpile-only --test test/alloc-model.test.ts
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { createHeap, PRESET_NAMES, type BuildMode, type Heap, type HeapAlignment, type HeapOptions, type PresetName, type TypedArrayConstructor } from "../lib";
import { Xorshift32 } from "../lib/bench/workloads/rng";

const OPS = Number(process.env.HAKMEM_MODEL_OPS ?? 100000);
const SEED = Number(process.env.HAKMEM_MODEL_SEED ?? 20251122) >>> 0;
const CHECK_EVERY = 500;
const KiB = 1024;
const MiB = 1024 * KiB;
const MAX_LARGE = 256 * KiB;
const VIEW_TYPES: TypedArrayConstructor[] = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
];

/** The workloads' xorshift32 (lib/bench/workloads/rng.ts) as a draw function. */
function rng(seed: number): () => number {
  const g = new Xorshift32(seed);
  return () => g.draw();
}

/** Block contents: byte i of a block with pattern s is (s + i) & 255, so shifted copies are caught too. */
const MASTER = Buffer.alloc(MAX_LARGE + 256 + 1);
for (let i = 0; i < MASTER.length; i++) MASTER[i] = i & 255;
const ZEROS = Buffer.alloc(MAX_LARGE + 1);

interface Live {
  ptr: number;
  size: number;
  /** [lo, hi): the bytes the block owns, from its header byte to the end of its usable size. */
  lo: number;
  hi: number;
  pattern: number;
  /** From alignedAlloc with an alignment above 1 (alignment 1 is malloc's block): realloc never moves it to shrink it. */
  aligned?: boolean;
}

/** Live blocks sorted by start address, for the overlap check on every new block. */
class IntervalSet {
  private readonly items: Live[] = [];

  private lowerBound(lo: number): number {
    let a = 0;
    let b = this.items.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (this.items[mid].lo < lo) a = mid + 1;
      else b = mid;
    }
    return a;
  }

  insert(x: Live): void {
    const i = this.lowerBound(x.lo);
    const prev = this.items[i - 1];
    const next = this.items[i];
    if (prev && prev.hi > x.lo) assert.fail(`block ${x.ptr} [${x.lo}, ${x.hi}) overlaps live block ${prev.ptr} [${prev.lo}, ${prev.hi})`);
    if (next && x.hi > next.lo) assert.fail(`block ${x.ptr} [${x.lo}, ${x.hi}) overlaps live block ${next.ptr} [${next.lo}, ${next.hi})`);
    this.items.splice(i, 0, x);
  }

  remove(x: Live): void {
    const i = this.lowerBound(x.lo);
    assert.equal(this.items[i], x, `model lost block ${x.ptr}`);
    this.items.splice(i, 1);
  }

  get size(): number {
    return this.items.length;
  }
}

/** A workload: heap size, working set, size mix and when to allocate rather than free. */
interface Profile {
  name: string;
  bytes: number;
  /** Options on top of the preset (small caches and 1 MiB SuperSlabs make slabs come and go often). */
  options?: HeapOptions;
  slots: number;
  /** A malloc returning 0 fails the test unless the live bytes plus the request exceed this. */
  oomAllowedAbove: number;
  /** Called once per op: true = allocate into an empty slot, false = free/realloc a live one. */
  wantAlloc(op: number, r: () => number, live: number, slots: number): boolean;
  size(op: number, r: () => number): number;
}

const MIXED: Profile = {
  name: "mixed",
  bytes: 16 * MiB,
  slots: 384,
  oomAllowedAbove: 4 * MiB,
  // A random slot: allocate when it is empty (the bench_random_mixed rule).
  wantAlloc: (_op, r, live, slots) => r() % slots >= live,
  size(_op, r) {
    const k = r() % 100;
    if (k < 85) return r() % 1101; // tiny, across every class edge and past the tiny limit
    if (k < 97) return 1000 + (r() % (53248 - 1000 + 1)); // mid, across every mid class edge
    return 53248 + (r() % (MAX_LARGE - 53248 + 1)); // large
  },
};

const PHASE = 1500;
let hot: number[] = [];
const PRESSURE: Profile = {
  name: "pressure",
  bytes: 4 * MiB,
  slots: 8192,
  // The heap runs out on purpose: any malloc may return 0.
  oomAllowedAbove: 0,
  // Phases of PHASE ops alternately grow (85% allocations) and shrink (60% frees) the live set, so it
  // climbs until the heap runs out, then churns near full.
  wantAlloc: (op, r, live, slots) => live === 0 || (live < slots && r() % 20 < ((op / PHASE) & 1 ? 8 : 17)),
  size(op, r) {
    if (op % PHASE === 0 || hot.length === 0) hot = [0, 1, 2].map(() => r() % 1024);
    const k = r() % 1000;
    if (k < 900) return hot[k % 3];
    if (k < 980) return r() % 1024;
    if (k < 997) return 1024 + (r() % (53248 - 1024));
    return 53248 + (r() % (128 * KiB - 53248));
  },
};

/**
 * Tiny-heavy churn with tiny front caches, small refills and 1 MiB SuperSlabs: blocks spill to their
 * slabs all the time, slabs go EMPTY and are reused by other classes, whole SuperSlabs go back.
 */
const CHURN: Profile = {
  name: "churn",
  bytes: 8 * MiB,
  options: { frontCapacity: 8, refillCount: 4, sfcCapacity: 8, sfcRefillCount: 4, superslabBytes: 1 * MiB },
  slots: 3000,
  oomAllowedAbove: 2 * MiB,
  // Waves: the live set swells to ~3000 blocks and drains again every 4 * PHASE ops.
  wantAlloc: (op, r, live, slots) => live < slots && r() % 20 < ((op / (2 * PHASE)) & 1 ? 6 : 14),
  size(_op, r) {
    const k = r() % 100;
    if (k < 96) return r() % 1024;
    if (k < 99) return 1024 + (r() % 20_000);
    return 53248 + (r() % 60_000);
  },
};

interface RunResult {
  ops: number;
  mallocs: number;
  alignedAllocs: number;
  frees: number;
  reallocs: number;
  callocs: number;
  oom: number;
  peakLiveBlocks: number;
  /** The fewest live bytes seen when a malloc returned 0. */
  minLiveAtOom: number;
  /** After everything was freed and trim() ran. */
  heapBytesAfter: number;
  peakHeapBytes: number;
  mappedBytesAfter: number;
  superslabsAfter: number;
  superslabBytes: number;
}

let totalOps = 0;

function runModel(profile: Profile, preset: PresetName, build: BuildMode, ops: number, seed: number, align?: HeapAlignment): RunResult {
  const heap: Heap = createHeap({ preset, build, bytes: profile.bytes, ...profile.options, align });
  // Bytes of the block's own before the user pointer: the 1-byte header, or nothing on header-free heaps.
  const headerBytes = heap.config.align === 1 ? 1 : 0;
  const u8 = heap.u8;
  const view = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  const r = rng(seed);
  const slots: (Live | null)[] = new Array(profile.slots).fill(null);
  // Slot indices by state, for O(1) picking: [0, nLive) live, [nLive, slots) empty.
  const order = Array.from({ length: profile.slots }, (_, i) => i);
  const pos = Array.from({ length: profile.slots }, (_, i) => i);
  let nLive = 0;
  const swap = (i: number, j: number) => {
    const a = order[i];
    const b = order[j];
    order[i] = b;
    order[j] = a;
    pos[a] = j;
    pos[b] = i;
  };
  const markLive = (s: number) => swap(pos[s], nLive++);
  const markEmpty = (s: number) => swap(pos[s], --nLive);

  const set = new IntervalSet();
  const res: RunResult = {
    ops: 0, mallocs: 0, alignedAllocs: 0, frees: 0, reallocs: 0, callocs: 0, oom: 0, peakLiveBlocks: 0, minLiveAtOom: 0,
    heapBytesAfter: 0, peakHeapBytes: 0, mappedBytesAfter: 0, superslabsAfter: 0, superslabBytes: heap.config.superslabBytes,
  };
  let liveBytes = 0;
  let op = 0;
  const where = () => `${profile.name} ${preset}/align ${heap.config.align}/${build} seed ${seed} op ${op}`;

  const verify = (x: Live, n = x.size) => {
    if (n === 0) return;
    if (!view.subarray(x.ptr, x.ptr + n).equals(MASTER.subarray(x.pattern, x.pattern + n))) {
      let i = 0;
      while (u8[x.ptr + i] === ((x.pattern + i) & 255)) i++;
      assert.fail(`${where()}: block ${x.ptr} (size ${x.size}) was overwritten at byte ${i}: 0x${u8[x.ptr + i].toString(16)}, expected 0x${((x.pattern + i) & 255).toString(16)}`);
    }
  };
  const fill = (x: Live) => view.set(MASTER.subarray(x.pattern, x.pattern + x.size), x.ptr);
  /**
   * heap.view of every element type that fits the block's alignment reads the block's bytes as they
   * are, and a value written through it lands in the right bytes (then the pattern is put back).
   */
  const roundTripViews = (x: Live) => {
    for (const Ctor of VIEW_TYPES) {
      const n = Math.floor(x.size / Ctor.BYTES_PER_ELEMENT);
      if (x.ptr % Ctor.BYTES_PER_ELEMENT !== 0 || n === 0) continue;
      const v = heap.view(x.ptr, Ctor, n);
      const bytes = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      assert.ok(bytes.equals(MASTER.subarray(x.pattern, x.pattern + n * Ctor.BYTES_PER_ELEMENT)), `${where()}: ${Ctor.name} view of ${x.ptr} reads other bytes`);
      const last = n - 1;
      const old = v[last];
      v[last] = (typeof old === "bigint" ? 0x0102030405060708n : 77) as never;
      assert.equal(v[last], typeof old === "bigint" ? 0x0102030405060708n : 77, `${where()}: ${Ctor.name} view of ${x.ptr} lost a value`);
      v[last] = old as never;
      verify(x);
    }
  };

  /** Registers a block just returned for `size` bytes; 0 passes only where the heap may be full. */
  const adopt = (p: number, size: number, what: string): Live | null => {
    if (p === 0) {
      assert.ok(liveBytes + size > profile.oomAllowedAbove, `${where()}: ${what} returned 0 with only ${liveBytes} bytes live`);
      res.oom++;
      if (res.oom === 1 || liveBytes < res.minLiveAtOom) res.minLiveAtOom = liveBytes;
      return null;
    }
    assert.ok(Number.isInteger(p) && p > 0, `${where()}: ${what} returned ${p}`);
    assert.equal(p % heap.config.align, 0, `${where()}: ${what} returned ${p}, not aligned to the heap's ${heap.config.align}`);
    const usable = heap.usableSize(p);
    assert.ok(usable >= size, `${where()}: ${what}: usableSize(${p}) = ${usable} < ${size}`);
    const x: Live = { ptr: p, size, lo: p - headerBytes, hi: p + usable, pattern: r() & 255 };
    assert.ok(x.lo >= 0 && x.hi <= profile.bytes, `${where()}: ${what} returned block [${x.lo}, ${x.hi}) outside the heap`);
    try {
      set.insert(x);
    } catch (e) {
      assert.fail(`${where()}: ${what}: ${(e as Error).message}`);
    }
    liveBytes += size;
    return x;
  };
  const put = (s: number, x: Live | null) => {
    const was = slots[s];
    slots[s] = x;
    if (was === null && x !== null) markLive(s);
    if (was !== null && x === null) markEmpty(s);
  };
  const release = (x: Live) => {
    set.remove(x);
    liveBytes -= x.size;
  };

  for (op = 0; op < ops; op++) {
    if (profile.wantAlloc(op, r, nLive, profile.slots) && nLive < profile.slots) {
      const s = order[nLive + (r() % (profile.slots - nLive))];
      const size = profile.size(op, r);
      if (r() % 5 === 0) {
        const count = 1 + (r() % 4);
        const each = Math.floor(size / count);
        const p = heap.calloc(count, each);
        res.callocs++;
        const y = adopt(p, count * each, `calloc(${count}, ${each})`);
        if (y) {
          assert.ok(view.subarray(p, p + y.size).equals(ZEROS.subarray(0, y.size)), `${where()}: calloc(${count}, ${each}) = ${p} is not zeroed`);
          fill(y);
        }
        put(s, y);
      } else if (r() % 8 === 0) {
        // Aligned blocks (up to 4 KiB, so over-allocation stays within the OOM allowance) and typed views.
        const alignment = 2 ** (r() % 13);
        const p = heap.alignedAlloc(alignment, size);
        res.alignedAllocs++;
        const y = adopt(p, size, `alignedAlloc(${alignment}, ${size})`);
        if (y) {
          y.aligned = alignment > 1;
          assert.equal(p % alignment, 0, `${where()}: alignedAlloc(${alignment}, ${size}) = ${p} is not aligned`);
          fill(y);
          roundTripViews(y);
        }
        put(s, y);
      } else {
        const p = heap.malloc(size);
        res.mallocs++;
        const y = adopt(p, size, `malloc(${size})`);
        if (y) fill(y);
        put(s, y);
      }
    } else if (nLive > 0) {
      const s = order[r() % nLive];
      const x = slots[s]!;
      verify(x);
      if (r() % 4 === 0) {
        // realloc: grow, shrink, or free with size 0.
        const size = r() % 16 === 0 ? 0 : profile.size(op, r);
        const q = heap.realloc(x.ptr, size);
        res.reallocs++;
        if (size === 0) {
          assert.equal(q, 0, `${where()}: realloc(${x.ptr}, 0) returned ${q}`);
          release(x);
          put(s, null);
        } else if (q === 0) {
          // Out of memory: the old block stays valid and untouched, as in C.
          assert.ok(liveBytes + size > profile.oomAllowedAbove, `${where()}: realloc(${x.ptr}, ${size}) returned 0 with only ${liveBytes} bytes live`);
          res.oom++;
          if (res.oom === 1 || liveBytes < res.minLiveAtOom) res.minLiveAtOom = liveBytes;
          verify(x);
        } else {
          const kept = Math.min(x.size, size);
          // A block shrunk below half its usable size moves to a smaller one where reallocShrinks is on.
          const usable = x.hi - x.ptr;
          if (size <= usable && (!heap.config.reallocShrinks || x.aligned || size >= usable >>> 1))
            assert.equal(q, x.ptr, `${where()}: realloc(${x.ptr}, ${size}) shrinking from ${x.size} (usable ${usable}) moved the block`);
          // No larger: a tiny move can borrow a free block of the next class up, the old block's size.
          if (q !== x.ptr && size <= usable) assert.ok(heap.usableSize(q) <= usable, `${where()}: realloc(${x.ptr}, ${size}) moved the block to a larger one`);
          release(x);
          const y = adopt(q, size, `realloc(${x.ptr}, ${size})`)!;
          if (q === x.ptr) y.aligned = x.aligned; // the same block, still the one alignedAlloc gave
          verify({ ...x, ptr: q }, kept);
          fill(y);
          put(s, y);
        }
      } else {
        heap.free(x.ptr);
        res.frees++;
        release(x);
        put(s, null);
      }
    }
    res.peakLiveBlocks = Math.max(res.peakLiveBlocks, nLive);
    if (op % CHECK_EVERY === CHECK_EVERY - 1) {
      heap.check();
      assert.equal(set.size, nLive);
    }
  }
  heap.check();
  // Everything is still intact at the end; then free it all.
  for (let s = 0; s < profile.slots; s++) {
    const y = slots[s];
    if (y === null) continue;
    verify(y);
    heap.free(y.ptr);
    release(y);
    put(s, null);
  }
  assert.equal(set.size, 0);
  assert.equal(liveBytes, 0);
  heap.check();
  heap.trim();
  heap.check();
  const st = heap.stats();
  assert.ok(st.peakHeapBytes >= st.heapBytes, `${where()}: peakHeapBytes ${st.peakHeapBytes} < heapBytes ${st.heapBytes}`);
  Object.assign(res, { heapBytesAfter: st.heapBytes, peakHeapBytes: st.peakHeapBytes, mappedBytesAfter: st.mappedBytes, superslabsAfter: st.superslabs });
  res.ops = ops;
  totalOps += ops;
  return res;
}

const PROFILES = [MIXED, PRESSURE, CHURN];

/** Every preset at its own alignment (1, or 16 for aligned), and the header-free front end at align 8. */
const VARIANTS: { preset: PresetName; align?: HeapAlignment }[] = [...PRESET_NAMES.map((preset) => ({ preset })), { preset: "aligned", align: 8 }];
const variantName = (v: (typeof VARIANTS)[number]) => (v.align === undefined ? v.preset : `${v.preset} align ${v.align}`);

const runSeed = (profile: Profile, variant: number, build: BuildMode) =>
  (SEED ^ Math.imul(variant + 1, 0x9e3779b1) ^ (build === "debug" ? 0x5bd1e995 : 0) ^ Math.imul(PROFILES.indexOf(profile), 0x27d4eb2f)) >>> 0;

describe(`model-based random operations (${OPS} ops per preset, build and profile; seed ${SEED})`, () => {
  const results: { name: string; res: RunResult }[] = [];
  after(() => console.log(`alloc-model: ${totalOps} operations in total (${OPS} per run x ${results.length} runs, seed ${SEED})`));

  for (const profile of PROFILES) {
    VARIANTS.forEach((variant, v) => {
      for (const build of ["release", "debug"] as const) {
        const name = `${profile.name} ${variantName(variant)}/${build}`;
        it(`${profile.name} / ${variantName(variant)} / ${build}: aligned blocks, no overlap, contents kept (also through typed views), usableSize >= size, check() passes`, () => {
          const res = runModel(profile, variant.preset, build, OPS, runSeed(profile, v, build), variant.align);
          results.push({ name, res });
          if (process.env.HAKMEM_MODEL_VERBOSE) console.log(JSON.stringify({ name, ...res }));
          assert.ok(res.mallocs > 0 && res.alignedAllocs > 0 && res.frees > 0 && res.reallocs > 0 && res.callocs > 0);
          if (profile === PRESSURE && OPS >= 4 * PHASE) assert.ok(res.oom > 0, "the pressure profile should run the heap out of memory");
        });
      }
    });
  }

  it("after freeing everything and trim(), heapBytes returns to a small value (every run above)", () => {
    assert.equal(results.length, VARIANTS.length * 2 * PROFILES.length, "every run above must have finished");
    // With nothing live the heap may keep one SuperSlab (its smallest SuperSlab cache) and a little more.
    const allowed = (res: RunResult) => res.superslabBytes + 256 * KiB;
    assert.deepEqual(
      results
        .filter(({ res }) => res.heapBytesAfter > allowed(res))
        .map(({ name, res }) =>
          `${name}: ${res.heapBytesAfter} bytes touched after free-all + trim() (allowed ${allowed(res)}; peak ${res.peakHeapBytes}, mapped ${res.mappedBytesAfter}, superslabs ${res.superslabsAfter})`),
      [],
    );
  });

  it("the model's own checks see a changed byte and an overlap (self-test)", () => {
    // Guards against a model that would pass whatever the allocator did.
    const heap = createHeap({ bytes: 4 * MiB });
    const p = heap.malloc(300);
    const view = Buffer.from(heap.u8.buffer);
    view.set(MASTER.subarray(7, 307), p);
    assert.ok(view.subarray(p, p + 300).equals(MASTER.subarray(7, 307)));
    heap.u8[p + 299] ^= 1;
    assert.ok(!view.subarray(p, p + 300).equals(MASTER.subarray(7, 307)));
    const set = new IntervalSet();
    set.insert({ ptr: 10, size: 5, lo: 9, hi: 15, pattern: 0 });
    assert.throws(() => set.insert({ ptr: 15, size: 5, lo: 14, hi: 20, pattern: 0 }), /overlaps/);
    set.insert({ ptr: 16, size: 5, lo: 15, hi: 21, pattern: 0 });
    assert.throws(() => set.insert({ ptr: 5, size: 5, lo: 4, hi: 10, pattern: 0 }), /overlaps/);
    heap.free(p);
    heap.check();
  });
});
