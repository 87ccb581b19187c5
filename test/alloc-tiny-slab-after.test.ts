/**
 * tinySlabAfterBytes: a tiny class's first blocks are tiny blocks inside blocks of the coalescing mid
 * tier, taken 1 KiB a refill, and the class takes its first slab only once the heap has handed out
 * that many bytes of it there. Such a block frees onto its class's front list as a slab's block does,
 * spill gives it back to the tier, another thread's free sends it to the tier, check() holds and
 * refuses a broken one, and the option does nothing where the mid tier cannot serve small blocks.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attachHeap, createHeap, PRESET_NAMES, resolveConfig, type Heap } from "../lib";
import { headerMagic } from "../lib/alloc/header";
import { KIND_COALESCING, KIND_SLAB, P, PAGE_SHIFT } from "../lib/alloc/layout";
import { walkCoalescing } from "../lib/alloc/coalescing";
import { spillFrontLists } from "../lib/alloc/tiny-refill";

const MiB = 1024 * 1024;
const TINY_LIVE = 0xa0;
const CLASS_48 = resolveConfig({ preset: "current" }).tinyClasses.indexOf(48); // 40-byte requests, with the header

/** Where a live block lives: a tiny block in a slab, a tiny block in a coalescing block, or neither. */
function homeOf(heap: Heap, p: number): "slab" | "tier" | "other" {
  if (headerMagic(heap.u8[p - 1], p, heap.mem.wideTinyHeaders) !== TINY_LIVE || (p & 7) !== 1) return "other";
  const kind = heap.mem.i32[heap.mem.meta((p - 1) >>> PAGE_SHIFT) + P.KIND];
  return kind === KIND_SLAB ? "slab" : kind === KIND_COALESCING ? "tier" : "other";
}

/** Live blocks of the coalescing tier. */
function tierLiveBlocks(heap: Heap): number {
  let live = 0;
  walkCoalescing(heap.mem, { block: ({ free }) => { if (!free) live++; } });
  return live;
}

describe("tinySlabAfterBytes", () => {
  it("serves a class's first blocks inside coalescing blocks, then from a slab, and frees both", () => {
    // 4096 / 48 rounds up to 86 blocks in the tier.
    const heap = createHeap({ bytes: 8 * MiB, tinySlabAfterBytes: 4096 });
    assert.equal(heap.blockSize[CLASS_48], 48);
    const ptrs = Array.from({ length: 200 }, () => heap.malloc(40));
    const homes = ptrs.map((p) => homeOf(heap, p));
    assert.deepEqual(homes.slice(0, 86), Array(86).fill("tier"));
    assert.deepEqual(homes.slice(86), Array(114).fill("slab"));
    assert.equal(tierLiveBlocks(heap), 86);
    assert.equal(heap.usableSize(ptrs[0]), 47, "a tiny block in the tier has its class's usable bytes");
    heap.check();
    const carved = heap.frontLength(CLASS_48); // the slab's refill carved a few more than asked for
    for (const p of ptrs) heap.free(p);
    heap.check();
    assert.equal(heap.frontLength(CLASS_48), carved + 200, "every block, in the tier or not, went onto the front list");
    assert.equal(tierLiveBlocks(heap), 86, "the front list holds the tier's blocks live");
  });

  it("takes a freed block back off the front list, and gives the tier its blocks back on a spill", () => {
    const heap = createHeap({ bytes: 8 * MiB, tinySlabAfterBytes: 4096 });
    const p = heap.malloc(40);
    assert.equal(homeOf(heap, p), "tier");
    heap.u8.fill(7, p, p + 47);
    heap.free(p);
    const q = heap.malloc(45);
    assert.equal(q, p, "the freed block is the class's next");
    assert.equal(homeOf(heap, q), "tier");
    const r = heap.malloc(40);
    heap.free(q);
    heap.free(r);
    assert.equal(tierLiveBlocks(heap), 21, "a refill takes 1 KiB of them: 21 blocks of 48 bytes");
    assert.equal(heap.frontLength(CLASS_48), 21);
    spillFrontLists(heap, -1);
    assert.equal(heap.frontLength(CLASS_48), 0);
    assert.equal(tierLiveBlocks(heap), 0, "spill gives them back to the tier");
    assert.equal(heap.stats().superslabs, 0, "no slab for a class served in the tier");
    heap.check();
  });

  it("keeps a class a thread uses little off slabs: no SuperSlab for a few small blocks", () => {
    const sparse = createHeap({ bytes: 8 * MiB, tinySlabAfterBytes: 16384 });
    const eager = createHeap({ bytes: 8 * MiB, tinySlabAfterBytes: 0 });
    for (const heap of [sparse, eager]) for (let size = 1; size < 1024; size += 37) heap.malloc(size);
    assert.equal(sparse.stats().superslabs, 0);
    assert.equal(eager.stats().superslabs, 1);
    assert.ok(sparse.stats().heapBytes < eager.stats().heapBytes, `${sparse.stats().heapBytes} vs ${eager.stats().heapBytes}`);
    sparse.check();
  });

  it("realloc, calloc and alignedAlloc work on blocks served in the tier", () => {
    const heap = createHeap({ bytes: 8 * MiB, tinySlabAfterBytes: 16384 });
    const p = heap.calloc(5, 8);
    assert.equal(homeOf(heap, p), "tier");
    assert.deepEqual([...heap.u8.subarray(p, p + 40)], Array(40).fill(0));
    heap.u8.set([1, 2, 3], p);
    const q = heap.realloc(p, 300);
    assert.equal(homeOf(heap, q), "tier");
    assert.deepEqual([...heap.u8.subarray(q, q + 3)], [1, 2, 3]);
    const a = heap.alignedAlloc(64, 48);
    assert.equal(a % 64, 0);
    assert.ok(heap.usableSize(a) >= 48);
    heap.free(q);
    heap.free(a);
    heap.check();
  });

  it("refuses a tiny header whose class does not fit its coalescing block, and check() finds one on a front list", () => {
    const heap = createHeap({ bytes: 8 * MiB, tinySlabAfterBytes: 4096 });
    const p = heap.malloc(40);
    heap.u8[p - 1] = TINY_LIVE | 9; // the 128-byte class, in a block made for 48 bytes
    assert.throws(() => heap.usableSize(p), { code: "CORRUPT_HEADER", message: /class 9, which does not fit the \d+ bytes of its coalescing block/ });
    heap.u8[p - 1] = TINY_LIVE | CLASS_48;
    heap.free(p);
    heap.check();
    heap.u8[p - 1] = 0x42;
    assert.throws(() => heap.check(), { code: "HEAP_CORRUPT", message: new RegExp(`SLL of class ${CLASS_48}: free block ${p - 1} has header 0x42`) });
  });

  it("on a shared heap the count is the heap's, and another thread's free gives the block back to the tier", () => {
    const main = createHeap({ bytes: 8 * MiB, shared: true, tinySlabAfterBytes: 4096 });
    const other = attachHeap(main.handle());
    const first = Array.from({ length: 50 }, () => main.malloc(40));
    const second = Array.from({ length: 50 }, () => other.malloc(40));
    // main's three refills take 63 of the 86 blocks (21 each), other's the last 23, then a slab.
    const homes = [...first, ...second].map((p) => homeOf(main, p));
    assert.deepEqual(homes, [...Array(50 + 23).fill("tier"), ...Array(27).fill("slab")]);
    assert.equal(tierLiveBlocks(main), 86);
    const late = attachHeap(main.handle());
    assert.equal(homeOf(main, late.malloc(40)), "slab");
    for (const p of first) other.free(p);
    assert.equal(tierLiveBlocks(main), 36, "the 50 blocks main uses, freed by another thread, are the tier's again");
    for (const p of second) main.free(p);
    other.detach();
    late.detach();
    main.check();
  });

  it("does nothing with the classes mid tier: every small block is a slab's from the first", () => {
    const heap = createHeap({ bytes: 8 * MiB, midTier: "classes", tinySlabAfterBytes: 16384 });
    assert.equal(homeOf(heap, heap.malloc(40)), "slab");
  });

  it("reads HAKMEM_TINY_SLAB_AFTER_BYTES and refuses a value out of range, naming the variable", () => {
    for (const preset of PRESET_NAMES) assert.equal(resolveConfig({ preset }, {}).tinySlabAfterBytes, preset === "current" ? 8192 : 0, preset);
    assert.equal(resolveConfig({}, { HAKMEM_TINY_SLAB_AFTER_BYTES: "8192" }).tinySlabAfterBytes, 8192);
    assert.throws(() => resolveConfig({}, { HAKMEM_TINY_SLAB_AFTER_BYTES: "-1" }), { code: "INVALID_OPTION", message: /HAKMEM_TINY_SLAB_AFTER_BYTES.*-1/ });
    assert.throws(() => resolveConfig({ tinySlabAfterBytes: 2 * MiB }), { code: "INVALID_OPTION", message: /tinySlabAfterBytes/ });
  });
});
