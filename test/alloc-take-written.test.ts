/**
 * A tiny malloc whose slab would write memory never written takes a block of the coalescing tier
 * where that tier has written bytes free (tinyTakeWrittenCoalescing, an option of `current`'s design,
 * off in the preset): from a free block first, then from touched bytes above a region's top; never
 * while its own class has a free block; and its blocks go back to the tier on free, merging with
 * their neighbours.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHeap, resolveConfig, type Heap, type HeapOptions } from "../lib";
import { headerMagic } from "../lib/alloc/header";

const KiB = 1024;
const MiB = 1024 * KiB;
const MID_LIVE = 0xb0;
const TINY_LIVE = 0xa0;
/** A request of the tiny tier on `current` (its 128-byte class). */
const SMALL = 100;

function kind(heap: Heap, p: number): number {
  return headerMagic(heap.u8[p - 1], p, heap.mem.wideTinyHeaders);
}

function fresh(options: HeapOptions = {}): Heap {
  return createHeap({ tinySlabAfterBytes: 0, preset: "current", bytes: 16 * MiB, tinyTakeWrittenCoalescing: true, ...options });
}

/**
 * Mallocs of SMALL bytes until one is a tiny block (at most `limit`): the coalescing blocks before it,
 * each checked to have left the heap's resident bytes as they were, and the tiny one.
 */
function mallocUntilTiny(heap: Heap, limit: number): { taken: number[]; tiny: number } {
  const resident = heap.stats().residentBytes;
  const taken: number[] = [];
  for (let i = 0; i < limit; i++) {
    const p = heap.malloc(SMALL);
    assert.ok(heap.usableSize(p) >= SMALL, `malloc ${i}: usable ${heap.usableSize(p)}`);
    heap.u8.fill(i & 255, p, p + SMALL);
    if (kind(heap, p) === TINY_LIVE) return { taken, tiny: p };
    assert.equal(kind(heap, p), MID_LIVE, `malloc ${i}: header ${heap.u8[p - 1].toString(16)}`);
    assert.equal(heap.stats().residentBytes, resident, `malloc ${i}: a coalescing block wrote memory`);
    taken.push(p);
  }
  throw new Error(`no tiny block in ${limit} mallocs: the tier's written bytes never ran out`);
}

/**
 * Leaves a free 8 KiB block in the heap's coalescing tier between two live ones (the stash flushed, so
 * the tier has it): its user pointer, and the live ones.
 */
function leaveHole(heap: Heap): { hole: number; live: number[] } {
  const before = heap.malloc(2 * KiB);
  const hole = heap.malloc(8 * KiB);
  const guard = heap.malloc(2 * KiB);
  heap.u8.fill(7, hole, hole + 8 * KiB);
  heap.free(hole);
  heap.flushFrontCaches();
  return { hole, live: [before, guard] };
}

function heapWithHole(options: HeapOptions = {}) {
  const heap = fresh(options);
  return { heap, ...leaveHole(heap) };
}

describe("tiny mallocs take the coalescing tier's written bytes", () => {
  it("from a free block first, then from touched bytes above the top, writing nothing, until they run out", () => {
    const { heap, hole, live } = heapWithHole();
    // The 8 KiB block's bytes hold 73 blocks of 112 bytes, and the top's last touched unit some more.
    const { taken, tiny } = mallocUntilTiny(heap, 200);
    assert.equal(taken[0], hole, "the first takes the free block's start");
    const inHole = taken.filter((p) => p >= hole && p < hole + 8 * KiB);
    assert.ok(inHole.length >= 70, `${inHole.length} blocks in the free block`);
    assert.ok(taken.length > inHole.length, "then the top's touched bytes");
    assert.ok(taken.length < 200 && kind(heap, tiny) === TINY_LIVE);
    heap.check();
    taken.forEach((p, i) => assert.ok(heap.u8.subarray(p, p + SMALL).every((v) => v === (i & 255)), `block ${i} lost its bytes`));
    // Freed, they go back to the tier and merge: the 8 KiB block is whole again.
    for (const p of taken) heap.free(p);
    heap.flushFrontCaches();
    heap.check();
    assert.equal(heap.malloc(8 * KiB), hole);
    for (const p of [...live, tiny]) heap.free(p);
    heap.check();
  });

  it("from a top that fell: a block freed into it leaves its touched bytes, which the next tiny malloc takes", () => {
    const heap = fresh();
    const guard = heap.malloc(2 * KiB);
    const big = heap.malloc(64 * KiB);
    heap.free(big);
    heap.flushFrontCaches();
    const resident = heap.stats().residentBytes;
    const p = heap.malloc(SMALL);
    assert.equal(p, big, "the top's first bytes");
    assert.equal(kind(heap, p), MID_LIVE);
    assert.equal(heap.stats().residentBytes, resident);
    heap.free(p);
    heap.free(guard);
    heap.check();
  });

  it("not while its class has a free block: a class that has slab blocks to reuse takes them", () => {
    const heap = fresh();
    const first = Array.from({ length: 40 }, () => heap.malloc(SMALL));
    assert.ok(first.every((p) => kind(heap, p) === TINY_LIVE), "no written bytes in the tier yet");
    for (const p of first) heap.free(p);
    const { hole } = leaveHole(heap); // its flush puts the tiny blocks back on their slab too
    const again = Array.from({ length: 40 }, () => heap.malloc(SMALL));
    assert.ok(again.every((p) => kind(heap, p) === TINY_LIVE), "the class's own free blocks first");
    assert.equal(heap.malloc(8 * KiB), hole, "the tier's free block untouched");
    heap.check();
  });

  it("keeps the class in the tier: its blocks go back to the tier on free, so its next mallocs take the tier's again", () => {
    const { heap, hole } = heapWithHole();
    const first = Array.from({ length: 10 }, () => heap.malloc(SMALL));
    assert.ok(first.every((p) => kind(heap, p) === MID_LIVE));
    for (const p of first) heap.free(p);
    heap.flushFrontCaches();
    for (let cls = 0; cls < heap.blockSize.length; cls++) assert.equal(heap.frontLength(cls), 0, `class ${cls}: none went to a front list`);
    const again = Array.from({ length: 10 }, () => heap.malloc(SMALL));
    assert.ok(again.every((p) => kind(heap, p) === MID_LIVE), "the slab still has nothing written to give");
    assert.equal(again[0], hole);
    heap.check();
  });

  it("writes its own slab when the option is off, or with the classes mid tier", () => {
    for (const options of [{ tinyTakeWrittenCoalescing: false }, { midTier: "classes" as const }]) {
      const { heap } = heapWithHole(options);
      const resident = heap.stats().residentBytes;
      const p = heap.malloc(SMALL);
      assert.equal(kind(heap, p), TINY_LIVE, JSON.stringify(options));
      assert.ok(heap.stats().residentBytes > resident, "the slab wrote a unit");
      heap.check();
    }
  });

  it("on a shared heap, under the tier's lock, the same blocks", () => {
    const { heap, hole } = heapWithHole({ shared: true });
    const { taken } = mallocUntilTiny(heap, 200);
    assert.equal(taken[0], hole);
    for (const p of taken) heap.free(p);
    heap.check();
  });

  it("is off unless asked for, and refused where the front end refills on its own", () => {
    assert.equal(createHeap({ preset: "current", bytes: 16 * MiB }).config.tinyTakeWrittenCoalescing, false);
    assert.equal(resolveConfig({}, { HAKMEM_TINY_TAKE_WRITTEN_COALESCING: "1" }).tinyTakeWrittenCoalescing, true);
    assert.throws(() => fresh({ align: 16, tinyTakeWrittenCoalescing: true }), {
      code: "INVALID_OPTION",
      message: /tinyTakeWrittenCoalescing=true is invalid: the header-free front end \(align 16\) refills on its own/,
    });
    assert.throws(() => fresh({ sfcEnable: true, tinyBorrowNextClass: false, tinyFreshSlabLast: false, tinyRefillWholeFreelist: false }), {
      message: /tinyTakeWrittenCoalescing=true is invalid: the SFC refills on its own/,
    });
    assert.throws(() => resolveConfig({}, { HAKMEM_TINY_TAKE_WRITTEN_COALESCING: "maybe" }), {
      message: /environment variable HAKMEM_TINY_TAKE_WRITTEN_COALESCING="maybe" is not a boolean/,
    });
  });
});
