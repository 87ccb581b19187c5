/**
 * tinySlabAfterBytes: a tiny class's first blocks come from the coalescing mid tier, and the class
 * takes its first slab only once the heap has served that many bytes of it there. Blocks of both kinds
 * free by their headers, check() holds, and the option does nothing where the mid tier cannot serve
 * small blocks.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attachHeap, createHeap, PRESET_NAMES, resolveConfig, type Heap } from "../lib";
import { headerMagic } from "../lib/alloc/header";

const MiB = 1024 * 1024;
const MID_LIVE = 0xb0;
const TINY_LIVE = 0xa0;

/** Where a live block came from, by its header byte and its pointer's alignment (tiny headers may be wide). */
function tierOfBlock(heap: Heap, p: number): "tiny" | "coalescing" | "other" {
  const h = heap.u8[p - 1];
  if (headerMagic(h, p, heap.mem.wideTinyHeaders) === TINY_LIVE && (p & 7) === 1) return "tiny";
  if (h === MID_LIVE && (p & 15) === 8) return "coalescing";
  return "other";
}

describe("tinySlabAfterBytes", () => {
  it("serves a class's first blocks from the coalescing tier, then from a slab, and frees both", () => {
    // 40-byte requests are the 48-byte class (with the header): 4096 / 48 rounds up to 86 blocks.
    const heap = createHeap({ bytes: 8 * MiB, tinySlabAfterBytes: 4096 });
    const ptrs = Array.from({ length: 200 }, () => heap.malloc(40));
    const tiers = ptrs.map((p) => tierOfBlock(heap, p));
    assert.deepEqual(tiers.slice(0, 86), Array(86).fill("coalescing"));
    assert.deepEqual(tiers.slice(86), Array(114).fill("tiny"));
    assert.equal(heap.usableSize(ptrs[0]) >= 40, true);
    heap.check();
    for (const p of ptrs) heap.free(p);
    heap.check();
    assert.equal(tierOfBlock(heap, heap.malloc(40)), "tiny", "once the class has a slab it keeps it");
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

  it("realloc, calloc and alignedAlloc work on blocks served before the slab", () => {
    const heap = createHeap({ bytes: 8 * MiB, tinySlabAfterBytes: 16384 });
    const p = heap.calloc(5, 8);
    assert.equal(tierOfBlock(heap, p), "coalescing");
    assert.deepEqual([...heap.u8.subarray(p, p + 40)], Array(40).fill(0));
    heap.u8.set([1, 2, 3], p);
    const q = heap.realloc(p, 300);
    assert.deepEqual([...heap.u8.subarray(q, q + 3)], [1, 2, 3]);
    const a = heap.alignedAlloc(64, 48);
    assert.equal(a % 64, 0);
    heap.free(q);
    heap.free(a);
    heap.check();
  });

  it("on a shared heap the count is the heap's: a thread attached later takes a slab at once; blocks free from any thread", () => {
    const main = createHeap({ bytes: 8 * MiB, shared: true, tinySlabAfterBytes: 4096 });
    const other = attachHeap(main.handle());
    const first = Array.from({ length: 50 }, () => main.malloc(40));
    const second = Array.from({ length: 50 }, () => other.malloc(40));
    const tiers = [...first, ...second].map((p) => tierOfBlock(main, p));
    assert.deepEqual(tiers, [...Array(86).fill("coalescing"), ...Array(14).fill("tiny")]);
    const late = attachHeap(main.handle());
    assert.equal(tierOfBlock(main, late.malloc(40)), "tiny");
    for (const p of first) other.free(p);
    for (const p of second) main.free(p);
    other.detach();
    late.detach();
    main.check();
  });

  it("does nothing with the classes mid tier: every small block is tiny from the first", () => {
    const heap = createHeap({ bytes: 8 * MiB, midTier: "classes", tinySlabAfterBytes: 16384 });
    assert.equal(tierOfBlock(heap, heap.malloc(40)), "tiny");
  });

  it("reads HAKMEM_TINY_SLAB_AFTER_BYTES and refuses a value out of range, naming the variable", () => {
    for (const preset of PRESET_NAMES) assert.equal(resolveConfig({ preset }, {}).tinySlabAfterBytes, 0, preset);
    assert.equal(resolveConfig({}, { HAKMEM_TINY_SLAB_AFTER_BYTES: "8192" }).tinySlabAfterBytes, 8192);
    assert.throws(() => resolveConfig({}, { HAKMEM_TINY_SLAB_AFTER_BYTES: "-1" }), { code: "INVALID_OPTION", message: /HAKMEM_TINY_SLAB_AFTER_BYTES.*-1/ });
    assert.throws(() => resolveConfig({ tinySlabAfterBytes: 2 * MiB }), { code: "INVALID_OPTION", message: /tinySlabAfterBytes/ });
  });
});
