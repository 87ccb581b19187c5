/**
 * heap.alignedAlloc(alignment, size) on every preset and build: every power-of-two alignment from 1 to
 * 64 KiB with sizes in every tier returns aligned, writable, non-overlapping blocks that free,
 * usableSize and realloc accept; bad alignments are refused with messages; a double free, an interior
 * pointer and a forged aligned header are caught.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHeap, HeapError, PRESET_NAMES, type Heap } from "../lib";

const MiB = 1 << 20;
const ALIGNMENTS = Array.from({ length: 17 }, (_, k) => 2 ** k); // 1 .. 65536
const SIZES = [0, 1, 7, 8, 63, 100, 1000, 1031, 3000, 20_000, 53_247, 60_000, 200_000];

function throwsHeapError(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof HeapError, `threw ${String(e)}, not a HeapError`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

/** Asserts that no two of the blocks [ptr, ptr + usableSize) overlap. */
function assertDisjoint(heap: Heap, ptrs: number[]): void {
  const spans = ptrs.map((p) => [p, p + heap.usableSize(p)]).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++)
    assert.ok(spans[i - 1][1] <= spans[i][0], `block [${spans[i - 1]}) overlaps [${spans[i]})`);
}

for (const preset of PRESET_NAMES) {
  for (const build of ["release", "debug"] as const) {
    describe(`alignedAlloc, ${preset} / ${build}`, () => {
      it("every alignment 1..65536 x sizes in every tier: aligned, writable, disjoint; usableSize, realloc and free work", () => {
        const heap = createHeap({ bytes: 64 * MiB, preset, build });
        const live: { p: number; size: number; seed: number; alignment: number }[] = [];
        for (const alignment of ALIGNMENTS) {
          for (const size of SIZES) {
            const p = heap.alignedAlloc(alignment, size);
            assert.notEqual(p, 0, `alignedAlloc(${alignment}, ${size}) ran out of memory`);
            assert.equal(p % alignment, 0, `alignedAlloc(${alignment}, ${size}) = ${p} is not aligned`);
            assert.ok(heap.usableSize(p) >= size, `usableSize(${p}) < ${size}`);
            const seed = live.length * 13;
            for (let k = 0; k < size; k++) heap.u8[p + k] = (seed + k) & 255;
            live.push({ p, size, seed, alignment });
          }
          // Free every other block of this alignment so later ones reuse memory between live ones.
          const batch = live.splice(live.length - SIZES.length);
          batch.forEach((x, i) => (i % 2 === 0 ? live.push(x) : heap.free(x.p)));
        }
        assertDisjoint(heap, live.map((x) => x.p));
        heap.check();
        for (const x of live) {
          for (let k = 0; k < x.size; k++) assert.equal(heap.u8[x.p + k], (x.seed + k) & 255, `block ${x.p} changed at byte ${k}`);
          // Growing copies the bytes; shrinking keeps an aligned block as it is (alignment 1 is malloc's
          // block, which a shrink below half its size may move or cut, keeping the bytes asked for).
          const half = x.size >> 1;
          const s = x.size > 1 ? heap.realloc(x.p, half) : x.p;
          if (x.alignment > 1) assert.equal(s, x.p, `realloc(alignedAlloc(${x.alignment}, ${x.size}), ${half}) moved the block`);
          const kept = x.alignment > 1 || x.size <= 1 ? x.size : half;
          const q = heap.realloc(s, x.size + 5000);
          assert.notEqual(q, 0);
          for (let k = 0; k < kept; k++) assert.equal(heap.u8[q + k], (x.seed + k) & 255, `realloc(${s}) lost byte ${k}`);
          heap.free(q);
        }
        heap.check();
        heap.trim();
        heap.check();
        assert.ok(heap.stats().heapBytes <= heap.config.superslabBytes + 256 * 1024, `heap did not shrink back: ${heap.stats().heapBytes}`);
      });

      it("double free of an aligned block: DOUBLE_FREE, and the heap stays sound", () => {
        const heap = createHeap({ bytes: 8 * MiB, preset, build });
        for (const [alignment, size] of [[16, 10], [64, 100], [4096, 3000], [65536, 100_000], [32, 60_000]]) {
          const p = heap.alignedAlloc(alignment, size);
          heap.free(p);
          throwsHeapError(() => heap.free(p), "DOUBLE_FREE", new RegExp(`free\\(ptr ${p} .*(already freed|not live)`));
          throwsHeapError(() => heap.usableSize(p), "INVALID_POINTER", /use after free/);
          heap.check();
          const a = heap.alignedAlloc(alignment, size);
          const b = heap.alignedAlloc(alignment, size);
          assert.notEqual(a, b);
          heap.free(a);
          heap.free(b);
        }
        heap.check();
      });

      it("interior pointers of an aligned block are refused", () => {
        const heap = createHeap({ bytes: 8 * MiB, preset, build });
        const p = heap.alignedAlloc(256, 600);
        heap.u8.fill(0x11, p, p + 600);
        for (const off of [1, 8, 256, 599]) throwsHeapError(() => heap.free(p + off), "INVALID_POINTER", new RegExp(`free\\(ptr ${p + off} `));
        heap.free(p);
        heap.check();
      });
    });
  }
}

describe("alignedAlloc: bad input", () => {
  const heap = createHeap({ bytes: 4 * MiB });
  for (const [alignment, message] of [
    [3, /alignedAlloc\(3, 10\): alignment 3 is not a power of two/],
    [24, /alignment 24 is not a power of two/],
    [0, /alignment 0 is not a positive integer/],
    [-8, /alignment -8 is not a positive integer/],
    [1.5, /alignment 1.5 is not a positive integer/],
    ["16", /alignedAlloc\("16", 10\): alignment "16" is not a positive integer/],
    [131072, /alignment 131072 is above the largest supported, 65536/],
    [2 ** 40, /alignment 1099511627776 is not a power of two|above the largest/],
  ] as const) {
    it(`alignment ${String(alignment)}: INVALID_SIZE`, () => {
      throwsHeapError(() => heap.alignedAlloc(alignment as number, 10), "INVALID_SIZE", message);
    });
  }
  it("a bad size: INVALID_SIZE", () => {
    throwsHeapError(() => heap.alignedAlloc(16, -1), "INVALID_SIZE", /alignedAlloc\(16, -1\): size must be a non-negative integer/);
    throwsHeapError(() => heap.alignedAlloc(16, 2.5), "INVALID_SIZE", /size must be a non-negative integer/);
  });
  it("a size beyond the heap returns 0", () => {
    assert.equal(heap.alignedAlloc(64, 8 * MiB), 0);
    heap.check();
  });
  it("a forged aligned header whose offset leads nowhere: INVALID_POINTER (release)", () => {
    const p = heap.malloc(200);
    heap.u8.fill(0, p, p + 200);
    heap.u8[p + 63] = 0xe0; // an aligned header at p + 64 with offset 0 before it
    throwsHeapError(() => heap.free(p + 64), "INVALID_POINTER", /says aligned block, but the offset to its carrier block is out of range/);
    heap.free(p);
    heap.check();
  });
  it("debug: an overwritten aligned header is caught", () => {
    const debug = createHeap({ bytes: 4 * MiB, build: "debug" });
    const p = debug.alignedAlloc(32, 40);
    debug.u8[p - 1] = 0;
    throwsHeapError(() => debug.free(p), "CORRUPT_HEADER", /header byte is 0x0, was 0xe0/);
  });
});
