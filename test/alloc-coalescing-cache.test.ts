/**
 * The per-thread cache in front of the coalescing mid tier (coalescing-cache.ts): a freed block of a
 * cached size serves the next malloc of that size from the thread's list (or of a size up to 1/8
 * smaller, when that one's list is empty), a full list sends frees to the tier, cached blocks go back
 * before the tier writes memory never written (not while a top rises through bytes written before),
 * a second free of a cached block is refused by its header, check() names a broken list, and trim()
 * gives every cached block back to the tier (its regions then empty).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHeap, type Heap } from "../lib";
import { refusal } from "./fixtures/heap-refusal";
import { CACHE_FAST_MAX_BLOCK, CACHE_LISTS, CACHE_MAX_REQUEST, cacheClassListOf, cacheListOf, listRequest } from "../lib/alloc/coalescing-cache";

const MiB = 1024 * 1024;
const MID_LIVE = 0xb0;
const MID_FREE = 0x90;

/** Every tiny class but the first off: requests from 16 bytes are the coalescing tier's. */
function cachedHeap(blocks: number): Heap {
  return createHeap({ bytes: 16 * MiB, tinyMaxClass: 0, coalescingStashBlocks: 0, coalescingCacheBlocks: blocks });
}

/** A heap with 4 blocks a list whose 48-byte block `p` (a live one after it) was freed into the cache. */
function oneCachedBlock(): { heap: Heap; p: number } {
  const heap = cachedHeap(4);
  const p = heap.malloc(48);
  heap.malloc(48);
  heap.free(p);
  return { heap, p };
}

describe("coalescing tier's per-thread cache", () => {
  it("a freed block serves the next malloc of its size, last in first out, and a block of another size does not", () => {
    const heap = cachedHeap(64);
    const a = heap.malloc(100);
    const b = heap.malloc(100);
    const guard = heap.malloc(40);
    assert.equal(heap.u8[a - 1], MID_LIVE);
    heap.free(a);
    heap.free(b);
    assert.equal(heap.u8[a - 1], MID_FREE, "a cached block's header says free");
    assert.equal(heap.malloc(200) > guard, true, "a larger request does not take a cached 100-byte block");
    assert.equal(heap.malloc(100), b, "last freed, first served");
    assert.equal(heap.malloc(97), a, "any request with the same block size takes it");
    assert.equal(heap.u8[a - 1], MID_LIVE);
    heap.check();
  });

  it("a miss takes a cached block up to 1/8 larger before it asks the tier, and none larger than that", () => {
    const heap = cachedHeap(64);
    const room = heap.malloc(4000); // above the cache: freed, the tier has touched bytes to give without a flush
    const p = heap.malloc(300); // a 304-byte block: list 19
    heap.malloc(40);
    heap.free(room);
    heap.free(p);
    const far = heap.malloc(240); // a 256-byte block, list 16: lists 17 and 18 may serve it, not 19
    assert.notEqual(far, p, "a block more than 1/8 larger stays cached");
    assert.equal(heap.u8[p - 1], MID_FREE);
    assert.equal(heap.malloc(280), p, "a 288-byte block (list 18) is served by the cached 304-byte one");
    assert.equal(heap.u8[p - 1], MID_LIVE);
    assert.ok(heap.usableSize(p) >= 300, `usable ${heap.usableSize(p)}: the block keeps its size`);
    const held = heap.cacheCounts[19]; // the spare blocks malloc(300) brought
    heap.free(p);
    assert.equal(heap.cacheCounts[19], held + 1, "freed, it goes back to its own list");
    assert.equal(heap.malloc(300), p);
    heap.check();
  });

  it("a miss at a top brings spare blocks of its size from bytes already touched, and no more", () => {
    const heap = cachedHeap(64);
    const p = heap.malloc(100);
    const list = (100 + 4 + 15) >> 4;
    const spares = heap.cacheCounts[list];
    assert.ok(spares > 0 && spares <= 15, `spares ${spares}`);
    const touched = heap.stats().heapBytes;
    const next = Array.from({ length: spares }, () => heap.malloc(100)).sort((x, y) => x - y);
    assert.deepEqual(next, next.map((_, i) => p + 112 * (i + 1)), "the spares are the blocks after the first, in order");
    assert.equal(heap.stats().heapBytes, touched, "serving them touched nothing");
    heap.check();
  });

  it("holds at most coalescingCacheBlocks blocks per size: the rest merge in the tier", () => {
    const heap = cachedHeap(2);
    const list = (64 + 4 + 15) >> 4;
    const blocks = Array.from({ length: 8 }, () => heap.malloc(64));
    const guard = heap.malloc(40);
    for (const p of blocks) heap.free(p);
    assert.equal(heap.cacheCounts[list], 2);
    assert.ok(blocks.every((p) => heap.u8[p - 1] === MID_FREE));
    heap.check();
    // Six frees found the list full and merged: a request of three blocks' bytes fits there.
    const touched = heap.stats().heapBytes;
    assert.ok(heap.malloc(3 * 80 - 4) < guard, "served below the guard, by merged 80-byte blocks");
    assert.equal(heap.cacheCounts[list], 2, "the cache was not flushed for it");
    assert.equal(heap.stats().heapBytes, touched);
    heap.check();
  });

  it("fast lists (blocks up to CACHE_FAST_MAX_BLOCK bytes) hold a whole burst of frees, which serves the next burst of mallocs", () => {
    const heap = cachedHeap(32);
    const size = CACHE_FAST_MAX_BLOCK - 4; // the largest request of a fast list's block
    const list = CACHE_FAST_MAX_BLOCK >> 4;
    const blocks = Array.from({ length: 1000 }, () => heap.malloc(size));
    heap.malloc(200); // live after them: the burst cannot merge into the top
    const spare = heap.cacheCounts[list]; // blocks a miss carved for the list
    for (const p of blocks) heap.free(p);
    assert.equal(heap.cacheCounts[list], spare + 1000, "every free stayed in the thread's list, none merged in the tier");
    heap.check();
    const touched = heap.stats().heapBytes;
    const again = Array.from({ length: 1000 }, () => heap.malloc(size));
    assert.deepEqual(new Set(again), new Set(blocks), "the same blocks serve the same burst again, last freed first");
    assert.equal(heap.cacheCounts[list], spare);
    assert.equal(heap.stats().heapBytes, touched, "no byte touched for them");
    heap.check();
    // The next size up keeps at most coalescingCacheBlocks.
    const larger = Array.from({ length: 100 }, () => heap.malloc(CACHE_FAST_MAX_BLOCK));
    for (const p of larger) heap.free(p);
    assert.equal(heap.cacheCounts[list + 1], 32);
  });

  it("fast lists go back before the tier writes memory never written once they hold more than coalescingCacheBlocks, however small a share of the heap", () => {
    const heap = cachedHeap(32);
    for (let i = 0; i < 4; i++) heap.malloc(1_000_000); // 4 MB touched: the cache's 1/128 share alone would keep 31 KB
    const blocks = Array.from({ length: 100 }, () => heap.malloc(CACHE_FAST_MAX_BLOCK - 4));
    const guard = heap.malloc(200);
    for (const p of blocks) heap.free(p);
    assert.ok(heap.cacheCounts[CACHE_FAST_MAX_BLOCK >> 4] >= 100, "6400 bytes cached");
    const touched = heap.stats().heapBytes;
    const big = heap.malloc(6000); // more than the touched bytes left at the top
    assert.ok(big < guard, "served from the merged fast blocks, below the guard");
    assert.equal(heap.stats().heapBytes, touched, "no byte touched beyond theirs");
    assert.equal(heap.cacheCounts[CACHE_FAST_MAX_BLOCK >> 4], 0, "the fast list was given back");
    heap.check();
  });

  it("on a shared heap a fast list keeps at most coalescingCacheBlocks: a thread that only frees would hold the rest for good", () => {
    const heap = createHeap({ bytes: 16 * MiB, tinyMaxClass: 0, coalescingStashBlocks: 0, coalescingCacheBlocks: 32, shared: true });
    const blocks = Array.from({ length: 100 }, () => heap.malloc(CACHE_FAST_MAX_BLOCK - 4));
    heap.malloc(200);
    for (const p of blocks) heap.free(p);
    assert.equal(heap.cacheCounts[CACHE_FAST_MAX_BLOCK >> 4], 32);
    heap.check();
  });

  it("caches requests up to CACHE_MAX_REQUEST bytes, not above", () => {
    const heap = cachedHeap(4);
    const small = heap.malloc(CACHE_MAX_REQUEST);
    const big = heap.malloc(CACHE_MAX_REQUEST + 1);
    heap.malloc(16);
    heap.free(small);
    heap.free(big);
    assert.equal(heap.malloc(CACHE_MAX_REQUEST), small);
    assert.notEqual(heap.malloc(CACHE_MAX_REQUEST + 1), 0);
    heap.check();
  });

  it("adds nothing to the peak: before the tier writes memory never written, the cached blocks go back and merge", () => {
    const heap = cachedHeap(64);
    const small = Array.from({ length: 100 }, () => heap.malloc(64));
    const guard = heap.malloc(32); // a coalescing block (tinyMaxClass 0: up to 23 bytes are tiny)
    for (const p of small) heap.free(p);
    assert.ok(heap.cacheCounts.reduce((a, b) => a + b, 0) > 0, "some 64-byte blocks are cached");
    const touched = heap.stats().heapBytes;
    const big = Array.from({ length: 30 }, () => heap.malloc(200));
    assert.ok(big.every((p) => p < guard), "every 200-byte block came from the merged 64-byte ones, below the guard");
    assert.equal(heap.stats().heapBytes, touched, "no byte touched beyond what the 64-byte blocks had");
    assert.equal(heap.cacheCounts[(64 + 4 + 15) >> 4], 0, "the cached 64-byte blocks were given back");
    heap.check();
  });

  it("keeps its blocks while a top rises through bytes written before, and gives them back before the tier writes new ones", () => {
    const heap = cachedHeap(32);
    heap.malloc(200); // the region's first block: the region stays when the big one goes
    heap.free(heap.malloc(600 * 1024)); // the top falls and gives its touched bytes back; they stay written
    const fast = Array.from({ length: 40 }, () => heap.malloc(CACHE_FAST_MAX_BLOCK - 4));
    const guard = heap.malloc(200);
    for (const p of fast) heap.free(p);
    const list = CACHE_FAST_MAX_BLOCK >> 4;
    const held = heap.cacheCounts[list]; // the 40 and the spare blocks their misses brought
    assert.ok(held > 32, "a fast list above its count: due to go back before new memory");
    const resident = heap.stats().residentBytes;
    assert.ok(heap.malloc(400 * 1024) > guard, "carved at the top, above the touched bytes");
    assert.equal(heap.stats().residentBytes, resident, "through bytes written before");
    assert.equal(heap.cacheCounts[list], held, "so the cache kept its blocks");
    heap.malloc(400 * 1024); // past every byte the region has written
    assert.ok(heap.stats().residentBytes > resident);
    assert.equal(heap.cacheCounts[list], 0, "the cache went back first");
    heap.check();
  });

  it("refuses a second free of a cached block by its header", () => {
    const { heap, p } = oneCachedBlock();
    const e = refusal(() => heap.free(p));
    assert.equal(e.code, "DOUBLE_FREE");
    assert.match(e.message, /already freed/);
    heap.check();
  });

  it("check() names a cache list whose count is wrong, whose block is not cached, or that holds another thread's block", () => {
    const { heap, p } = oneCachedBlock();
    heap.check();
    const list = heap.cacheHeads.findIndex((b) => b !== 0);
    heap.cacheCounts[list]++;
    assert.match(refusal(() => heap.check()).message, /coalescing cache list \d+ holds (\d+) blocks, its count says \d+/);
    heap.cacheCounts[list]--;
    heap.u8[p - 1] = MID_LIVE;
    assert.match(refusal(() => heap.check()).message, /coalescing cache list \d+: block at \d+ has header 0xb0, not MID_FREE/);
    heap.u8[p - 1] = MID_FREE;
    heap.check();
    heap.i32[(p >> 2) + 1] = heap.tid + 1; // the word that names the thread whose list holds it
    assert.match(refusal(() => heap.check()).message, new RegExp(`block at \\d+ names thread ${heap.tid + 1} as its holder, not ${heap.tid}`));
  });

  it("trim() gives cached blocks back to the tier: with nothing live its pages go back", () => {
    const heap = cachedHeap(64);
    const ptrs = Array.from({ length: 200 }, (_, i) => heap.malloc(16 + (i % 60) * 16));
    for (const p of ptrs) heap.free(p);
    assert.ok(heap.cacheCounts.reduce((a, b) => a + b, 0) > 0, "some blocks are cached");
    heap.trim();
    assert.equal(heap.cacheCounts.reduce((a, b) => a + b, 0), 0, "trim empties the cache");
    heap.check();
    const after = heap.stats();
    assert.ok(after.heapBytes <= 4096, `touched after trim: ${after.heapBytes}`);
  });

  it("without the cache (coalescingCacheBlocks 0) a free goes to the tier at once", () => {
    const heap = cachedHeap(0);
    const p = heap.malloc(100);
    heap.malloc(100);
    heap.free(p);
    assert.equal(heap.cacheCounts.reduce((a, b) => a + b, 0), 0);
    assert.equal(heap.u8[p - 1], MID_FREE);
    heap.check();
  });

  it("size-class lists (coalescingCacheClasses): nearby sizes above 256 bytes share a list, below they do not", () => {
    let last = 0;
    for (let size = 0; size <= CACHE_MAX_REQUEST; size++) {
      const list = cacheClassListOf(size);
      assert.ok(list >= last && list < CACHE_LISTS, `size ${size}: list ${list} after ${last}`);
      assert.ok(listRequest(list) >= size, `size ${size}: list ${list} serves ${listRequest(list)} bytes`);
      if (size <= 236) assert.equal(list, cacheListOf(size), `size ${size} keeps its 16-byte list`);
      last = list;
    }
    // Eight lists per power of two: 288, 320, ... 512 bytes; 576 ... 1024; the last lists stay 16 apart.
    assert.deepEqual([253, 284, 285, 508, 509, 2044, 2045, 2060].map((s) => listRequest(cacheClassListOf(s)) + 4), [288, 288, 320, 512, 576, 2048, 2064, 2064]);
    assert.equal(new Set(Array.from({ length: CACHE_MAX_REQUEST + 1 }, (_, s) => cacheClassListOf(s))).size, 16 + 8 * 3 + 1);
  });

  it("with size-class lists a freed block serves the next malloc of any size in its class", () => {
    const heap = createHeap({ bytes: 16 * MiB, tinyMaxClass: 0, coalescingStashBlocks: 0, coalescingCacheBlocks: 32, coalescingCacheClasses: true });
    const a = heap.malloc(300);
    heap.malloc(40); // keeps a's block from merging with the top when it goes back
    assert.equal(heap.usableSize(a), 316, "a 300-byte request takes the 320-byte class");
    heap.free(a);
    assert.equal(heap.malloc(310), a, "310 bytes share 300's list");
    heap.check();
    const exact = createHeap({ bytes: 16 * MiB, tinyMaxClass: 0, coalescingStashBlocks: 0, coalescingCacheBlocks: 32 });
    assert.equal(exact.usableSize(exact.malloc(300)), 300, "without classes a block is the size its request needs");
    assert.notEqual(cacheListOf(300), cacheListOf(310), "and 300 and 310 bytes have lists of their own");
    exact.check();
  });

  it("coalescingCacheClasses must be true or false", () => {
    assert.throws(() => createHeap({ bytes: 16 * MiB, coalescingCacheClasses: 1 as unknown as boolean }), {
      code: "INVALID_OPTION",
      message: /coalescingCacheClasses=1.*true or false/,
    });
  });
});
