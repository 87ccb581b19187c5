/**
 * Refill reuses before it writes (tinyReuseBeforeWrite, on in `current`): when the class's current slab
 * has no free block and its next carve would write a 4 KiB unit never written, a partly free slab of
 * the class serves first, and the current slab waits on the partial list to carve later. Off (the
 * seed's presets), the current slab carves on.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHeap } from "../lib";
import { FLAG_IN_PARTIAL, P, PAGE_SHIFT, TOUCH_SHIFT } from "../lib/alloc/layout";

const CAPACITY = 8;
/** 1000-byte requests: 1001 with the header, a 1032-byte block, 63 to a 64 KiB slab. */
const REQUEST = 1000;

const pageOf = (p: number) => (p - 1) >>> PAGE_SHIFT;

/**
 * A heap with one slab of the class full, then half freed (those blocks on its freelist), and a
 * second slab, current, whose free blocks and written room are all taken.
 */
function halfFreedSlabBesideAUsedOne(tinyReuseBeforeWrite: boolean) {
  const heap = createHeap({ preset: "current", bytes: 16 * 1024 * 1024, frontCapacity: CAPACITY, tinyReuseBeforeWrite });
  const m = heap.mem;
  const live: number[] = [heap.malloc(REQUEST)];
  const cls = heap.u8[live[0] - 1] & 0x0f;
  const size = heap.blockSize[cls];
  const first = pageOf(live[0]);
  while (pageOf(live[live.length - 1]) === first) live.push(heap.malloc(REQUEST));
  const second = pageOf(live[live.length - 1]);
  assert.equal(heap.current[cls], second, "the second slab is the class's current one");
  const freed = live.filter((p) => pageOf(p) === first).filter((_, i) => i % 2 === 0);
  for (const p of freed) heap.free(p);
  heap.flushFrontCaches();
  assert.notEqual(m.i32[m.meta(first) + P.FLAGS] & FLAG_IN_PARTIAL, 0, "the first slab is partly free");
  const secondMeta = m.meta(second);
  const writtenRoom = () => (m.i32[secondMeta + P.CARVED] + 1) * size <= m.i32[secondMeta + P.WRITTEN] << TOUCH_SHIFT;
  while (m.i32[secondMeta + P.FREELIST] !== 0 || heap.counts[cls] > 0 || writtenRoom()) live.push(heap.malloc(REQUEST));
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
