/**
 * Refill reuses before it writes (tinyReuseBeforeWrite, on in `current`): when the class's current slab
 * has no free block and its next carve would write a 4 KiB unit never written, a partly free slab of
 * the class serves first, and the current slab waits on the partial list to carve later. Off (the
 * seed's presets), the current slab carves on.
 *
 * A refill into an empty front list takes the slab's whole freelist (tinyRefillWholeFreelist, on in
 * `current`), and those blocks do not count against the list's capacity until it next spills.
 *
 * A malloc whose current slab would write memory never written, with no partly free slab of its class
 * to turn to, takes a free block of the next class up (tinyBorrowNextClass, on in `current`).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHeap, HeapError, type Heap } from "../lib";
import { TINY_CLASS_MASK, TINY_LIVE } from "../lib/alloc/header";
import { FLAG_IN_PARTIAL, P, PAGE_SHIFT, STAT, TOUCH_SHIFT } from "../lib/alloc/layout";

const CAPACITY = 8;
/** 1000-byte requests: 1001 with the header, a 1032-byte block, 63 to a 64 KiB slab. */
const REQUEST = 1000;

const pageOf = (p: number) => (p - 1) >>> PAGE_SHIFT;

/**
 * Mallocs `request` (class `cls`) onto `live` until the slab at `meta` has no free block and no written
 * room to carve, and the class's front list is empty.
 */
function useWrittenMemory(heap: Heap, meta: number, cls: number, request: number, live: number[]): void {
  const i32 = heap.mem.i32;
  const size = heap.blockSize[cls];
  const writtenRoom = () => (i32[meta + P.CARVED] + 1) * size <= i32[meta + P.WRITTEN] << TOUCH_SHIFT;
  while (i32[meta + P.FREELIST] !== 0 || heap.frontLength(cls) > 0 || writtenRoom()) live.push(heap.malloc(request));
}

/**
 * A heap with one slab of the class full, then half freed (those blocks on its freelist), and a
 * second slab, current, whose free blocks and written room are all taken.
 */
function halfFreedSlabBesideAUsedOne(tinyReuseBeforeWrite: boolean) {
  const heap = createHeap({ tinySlabAfterBytes: 0, preset: "current", bytes: 16 * 1024 * 1024, frontCapacity: CAPACITY, tinyReuseBeforeWrite });
  const m = heap.mem;
  const live: number[] = [heap.malloc(REQUEST)];
  const cls = heap.u8[live[0] - 1] & TINY_CLASS_MASK;
  const first = pageOf(live[0]);
  while (pageOf(live[live.length - 1]) === first) live.push(heap.malloc(REQUEST));
  const second = pageOf(live[live.length - 1]);
  assert.equal(heap.current[cls], second, "the second slab is the class's current one");
  const freed = live.filter((p) => pageOf(p) === first).filter((_, i) => i % 2 === 0);
  for (const p of freed) heap.free(p);
  heap.flushFrontCaches();
  assert.notEqual(m.i32[m.meta(first) + P.FLAGS] & FLAG_IN_PARTIAL, 0, "the first slab is partly free");
  useWrittenMemory(heap, m.meta(second), cls, REQUEST, live);
  return { heap, live: live.filter((p) => !freed.includes(p)), freed: freed.length, first, second };
}

describe("refill", () => {
  it("takes a partly free slab's blocks before it writes memory never written", () => {
    const { heap, live, freed, first, second } = halfFreedSlabBesideAUsedOne(true);
    const m = heap.mem;
    const resident = heap.stats().residentBytes;
    const written = m.i32[m.meta(second) + P.WRITTEN];
    for (let i = 0; i < freed; i++) {
      const p = heap.malloc(REQUEST);
      assert.equal(pageOf(p), first, `malloc ${i} of ${freed} should reuse the partly free slab`);
      live.push(p);
    }
    assert.equal(heap.stats().residentBytes, resident, "no memory written while a slab had free blocks");
    assert.equal(m.i32[m.meta(second) + P.WRITTEN], written);
    assert.notEqual(m.i32[m.meta(second) + P.FLAGS] & FLAG_IN_PARTIAL, 0, "the second slab waits on the partial list");
    heap.check();
    // With the first slab full again, the waiting one carves on.
    const next = heap.malloc(REQUEST);
    assert.equal(pageOf(next), second, "the waiting slab carves once no slab has free blocks");
    assert.ok(m.i32[m.meta(second) + P.WRITTEN] > written);
    live.push(next);
    heap.check();
    for (const p of live) heap.free(p);
    heap.check();
  });

  it("carves the current slab on when the option is off", () => {
    const { heap, first, second } = halfFreedSlabBesideAUsedOne(false);
    const resident = heap.stats().residentBytes;
    const p = heap.malloc(REQUEST);
    assert.equal(pageOf(p), second);
    assert.notEqual(pageOf(p), first);
    assert.ok(heap.stats().residentBytes > resident, "the carve wrote a new unit");
    heap.check();
  });
});

/** A heap whose current slab of one class has `freed` blocks on its freelist and an empty front list. */
function slabWithFreelist(tinyRefillWholeFreelist: boolean, freed: number) {
  const heap = createHeap({ tinySlabAfterBytes: 0, preset: "current", bytes: 16 * 1024 * 1024, frontCapacity: CAPACITY, refillCount: 4, tinyRefillWholeFreelist });
  const live: number[] = [];
  for (let i = 0; i < 2 * freed; i++) live.push(heap.malloc(100));
  const cls = heap.u8[live[0] - 1] & TINY_CLASS_MASK;
  const page = pageOf(live[0]);
  assert.ok(live.every((p) => pageOf(p) === page), "every block from one slab");
  for (const p of live.splice(0, freed)) heap.free(p);
  heap.flushFrontCaches();
  assert.equal(heap.frontLength(cls), 0);
  return { heap, live, cls, meta: heap.mem.meta(page) };
}

describe("refill of a whole freelist", () => {
  const FREED = 30;

  it("takes every free block of the slab into an empty front list, without walking it", () => {
    const { heap, cls, meta } = slabWithFreelist(true, FREED);
    const i32 = heap.mem.i32;
    heap.malloc(100);
    assert.equal(heap.frontLength(cls), FREED - 1, "the refill took all 30, the malloc one");
    assert.equal(heap.stats().cachedBlocks[cls], FREED - 1);
    assert.equal(i32[meta + P.FREELIST], 0, "the slab's freelist is empty");
    assert.equal(i32[meta + P.USED], i32[meta + P.CARVED], "every carved block is out of the slab");
    heap.check();
  });

  it("walks refillCount blocks off the freelist when the option is off", () => {
    const { heap, cls, meta } = slabWithFreelist(false, FREED);
    heap.malloc(100);
    assert.equal(heap.frontLength(cls), 4 - 1);
    assert.equal(heap.mem.i32[meta + P.CARVED] - heap.mem.i32[meta + P.USED], FREED - 4, "the rest stays on the slab");
    heap.check();
  });

  it("holds up to frontCapacity blocks above those it took before the list spills, then counts the list in full", () => {
    const { heap, live, cls } = slabWithFreelist(true, FREED);
    live.push(heap.malloc(100));
    const spills = heap.stat[STAT.spills];
    for (let i = 0; i <= CAPACITY; i++) heap.free(live.pop()!);
    assert.equal(heap.stat[STAT.spills], spills, "no spill while the list holds at most the capacity above the blocks taken");
    assert.equal(heap.frontLength(cls), FREED + CAPACITY);
    heap.check();
    heap.free(live.pop()!);
    assert.equal(heap.stat[STAT.spills], spills + 1, "the next free spills");
    assert.equal(heap.frontLength(cls), CAPACITY >> 1, "down to half the capacity, blocks taken whole included");
    assert.equal(heap.counts[cls], CAPACITY >> 1);
    assert.equal(heap.takenWhole[cls], 0);
    heap.check();
    for (const p of live) heap.free(p);
    heap.flushFrontCaches();
    assert.equal(heap.frontLength(cls), 0);
    heap.check();
  });

  it("gives back the blocks it took when the front lists are flushed", () => {
    const { heap, cls, meta } = slabWithFreelist(true, FREED);
    const p = heap.malloc(100);
    heap.flushFrontCaches();
    assert.equal(heap.frontLength(cls), 0);
    assert.equal(heap.mem.i32[meta + P.CARVED] - heap.mem.i32[meta + P.USED], FREED - 1, "all but the live block back on the slab");
    heap.free(p);
    heap.check();
  });

  it("is refused with the SFC, which moves blocks off the front list by its count", () => {
    assert.throws(() => createHeap({ preset: "phase7", bytes: 16 * 1024 * 1024, tinyRefillWholeFreelist: true }), (e: unknown) => {
      assert.ok(e instanceof HeapError);
      assert.equal(e.code, "INVALID_OPTION");
      assert.match(e.message, /tinyRefillWholeFreelist=true is invalid: the SFC .* set sfcEnable false/);
      return true;
    });
  });
});

describe("a block of the next class before new memory", () => {
  /** 39-byte requests take the 40-byte class, 47-byte ones the next, 48 bytes. */
  const SMALL = 39;
  const NEXT = 47;

  /**
   * A heap whose 40-byte class has used every block of the memory its slab wrote, and whose 48-byte
   * class has a slab with free blocks on its freelist.
   */
  function smallClassOutOfWrittenMemory(tinyBorrowNextClass: boolean) {
    const heap = createHeap({ tinySlabAfterBytes: 0, preset: "current", bytes: 16 * 1024 * 1024, frontCapacity: CAPACITY, tinyBorrowNextClass });
    const m = heap.mem;
    const live = [heap.malloc(SMALL)];
    const cls = heap.u8[live[0] - 1] & TINY_CLASS_MASK;
    useWrittenMemory(heap, m.meta(pageOf(live[0])), cls, SMALL, live);
    const next = Array.from({ length: 60 }, () => heap.malloc(NEXT));
    const nextCls = heap.u8[next[0] - 1] & TINY_CLASS_MASK;
    assert.equal(nextCls, cls + 1);
    for (const p of next.filter((_, i) => i % 2 === 0)) heap.free(p);
    heap.flushFrontCaches();
    const nextMeta = m.meta(pageOf(next[0]));
    assert.ok(m.i32[nextMeta + P.CARVED] - m.i32[nextMeta + P.USED] >= 30, "the next class's slab has free blocks");
    return { heap, cls, nextCls, nextMeta, live: [...live, ...next.filter((_, i) => i % 2 === 1)] };
  }

  it("takes a free block of the next class, with its header, instead of writing memory", () => {
    const { heap, cls, nextCls, nextMeta, live } = smallClassOutOfWrittenMemory(true);
    const m = heap.mem;
    const resident = heap.stats().residentBytes;
    const used = m.i32[nextMeta + P.USED];
    const p = heap.malloc(SMALL);
    assert.equal(heap.u8[p - 1], TINY_LIVE | nextCls, "the block keeps the next class's header");
    assert.equal(m.meta(pageOf(p)), nextMeta, "from the next class's slab");
    assert.equal(m.i32[nextMeta + P.USED], used + 1);
    assert.equal(heap.usableSize(p), heap.blockSize[nextCls] - 1);
    assert.equal(heap.frontLength(cls), 0, "nothing carved for the small class");
    assert.equal(heap.stats().residentBytes, resident, "no memory written");
    heap.check();
    const before = heap.frontLength(nextCls);
    heap.free(p);
    assert.equal(heap.frontLength(nextCls), before + 1, "free takes it home to its own class");
    for (const q of live) heap.free(q);
    heap.check();
  });

  it("writes memory for its own class when the option is off", () => {
    const { heap, cls } = smallClassOutOfWrittenMemory(false);
    const resident = heap.stats().residentBytes;
    const p = heap.malloc(SMALL);
    assert.equal(heap.u8[p - 1], TINY_LIVE | cls);
    assert.ok(heap.stats().residentBytes > resident, "the carve wrote a new unit");
    heap.check();
  });

  it("is off on header-free heaps unless asked for, and refused there when asked for", () => {
    assert.equal(createHeap({ preset: "current", bytes: 16 * 1024 * 1024, align: 16 }).config.tinyBorrowNextClass, false);
    assert.throws(() => createHeap({ preset: "current", bytes: 16 * 1024 * 1024, align: 16, tinyBorrowNextClass: true }), {
      code: "INVALID_OPTION",
      message: /tinyBorrowNextClass=true is invalid: the header-free front end \(align 16\) refills on its own/,
    });
  });
});
