/**
 * A never-used slab last (tinyFreshSlabLast, on in `current`): a class that needs a slab and finds none
 * reused of its own takes an EMPTY slab that served any class; with none, its thread first gives its
 * other classes' front lists back to their slabs, so slabs pinned only by blocks on those lists go
 * EMPTY and serve it. Off (the seed's presets), the class claims a never-used slot.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHeap } from "../lib";
import { TINY_CLASS_MASK } from "../lib/alloc/header";
import { PAGE_SHIFT } from "../lib/alloc/layout";

/** 200-byte requests take the 256-byte class: 256 blocks to a 64 KiB slab. */
const IDLE = 200;
/** 1000-byte requests take the 1032-byte class. */
const BUSY = 1000;

const pageOf = (p: number) => (p - 1) >>> PAGE_SHIFT;

/**
 * A heap whose 256-byte class wrote three slabs and then had every block freed onto its front list
 * (under its capacity: none spilled), so each of those slabs is held by the list alone.
 */
function idleClassHoldingSlabs(tinyFreshSlabLast: boolean) {
  const heap = createHeap({ tinySlabAfterBytes: 0, preset: "current", bytes: 16 * 1024 * 1024, tinyFreshSlabLast });
  const idle = Array.from({ length: 600 }, () => heap.malloc(IDLE));
  const idleCls = heap.u8[idle[0] - 1] & TINY_CLASS_MASK;
  const idlePages = new Set(idle.map(pageOf));
  assert.equal(idlePages.size, 3);
  for (const p of idle) heap.free(p);
  const listed = heap.frontLength(idleCls);
  assert.ok(listed >= 600 && listed <= heap.config.frontCapacity, `every block on the front list (${listed}, with the last refill's spares)`);
  return { heap, idleCls, idlePages, listed };
}

describe("a never-used slab last", () => {
  it("gives the other front lists back and takes a slab they held, writing no new memory", () => {
    const { heap, idleCls, idlePages } = idleClassHoldingSlabs(true);
    const resident = heap.stats().residentBytes;
    const stages = heap.stats().pool;
    const p = heap.malloc(BUSY);
    assert.ok(idlePages.has(pageOf(p)), "the busy class's slab is one the idle class wrote");
    assert.equal(heap.frontLength(idleCls), 0, "the idle class's list went back");
    assert.equal(heap.stats().residentBytes, resident, "no memory written");
    const reused = (s: typeof stages) => s.stage0_l0 + s.stage0_5_empty + s.stage1_lockfree;
    assert.equal(reused(heap.stats().pool), reused(stages) + 1, "a reused slot (the thread's L0 keeps the first one freed)");
    assert.equal(heap.stats().pool.stage2_lockfree, stages.stage2_lockfree, "no never-used slot");
    assert.equal(heap.stats().pool.stage3_new_superslab, stages.stage3_new_superslab);
    heap.check();
    // The idle class serves again from its own slab, still current.
    const q = heap.malloc(IDLE);
    assert.ok(idlePages.has(pageOf(q)));
    heap.free(q);
    heap.free(p);
    heap.check();
  });

  it("takes EMPTY slabs of another class before a never-used one, the lists left alone", () => {
    const heap = createHeap({ tinySlabAfterBytes: 0, preset: "current", bytes: 16 * 1024 * 1024 });
    const idle = Array.from({ length: 900 }, () => heap.malloc(IDLE));
    const idleCls = heap.u8[idle[0] - 1] & TINY_CLASS_MASK;
    const idlePages = new Set(idle.map(pageOf));
    assert.equal(idlePages.size, 4);
    for (const p of idle) heap.free(p);
    heap.flushFrontCaches(); // three go EMPTY: the thread's L0 keeps one, the class's list the others
    const keep = heap.malloc(IDLE);
    const resident = heap.stats().residentBytes;
    const stages = heap.stats().pool;
    const busy = Array.from({ length: 150 }, () => heap.malloc(BUSY)); // three slabs' worth
    assert.equal(new Set(busy.map(pageOf)).size, 3);
    assert.ok(busy.every((p) => idlePages.has(pageOf(p))), "every busy slab one the idle class wrote");
    assert.equal(heap.stats().residentBytes, resident, "no memory written");
    assert.equal(heap.stats().pool.stage2_lockfree, stages.stage2_lockfree, "no never-used slot");
    assert.ok(heap.frontLength(idleCls) > 0, "the idle class's list, refilled for the block kept, stays");
    for (const p of busy) heap.free(p);
    heap.free(keep);
    heap.check();
  });

  it("off, the class claims a never-used slot and the lists keep their blocks", () => {
    const { heap, idleCls, idlePages, listed } = idleClassHoldingSlabs(false);
    const resident = heap.stats().residentBytes;
    const p = heap.malloc(BUSY);
    assert.ok(!idlePages.has(pageOf(p)));
    assert.equal(heap.frontLength(idleCls), listed);
    assert.ok(heap.stats().residentBytes > resident, "new memory written");
    heap.free(p);
    heap.check();
  });

  it("is on in current only, off on header-free heaps unless asked for, and refused there and with the SFC", () => {
    assert.equal(createHeap({ preset: "current", bytes: 16 * 1024 * 1024 }).config.tinyFreshSlabLast, true);
    assert.equal(createHeap({ preset: "phase7", bytes: 16 * 1024 * 1024 }).config.tinyFreshSlabLast, false);
    assert.equal(createHeap({ preset: "current", bytes: 16 * 1024 * 1024, align: 16 }).config.tinyFreshSlabLast, false);
    assert.throws(() => createHeap({ preset: "current", bytes: 16 * 1024 * 1024, align: 16, tinyFreshSlabLast: true }), {
      code: "INVALID_OPTION",
      message: /tinyFreshSlabLast=true is invalid: the header-free front end \(align 16\) keeps lists of its own/,
    });
    assert.throws(() => createHeap({ preset: "phase7", bytes: 16 * 1024 * 1024, tinyFreshSlabLast: true }), {
      code: "INVALID_OPTION",
      message: /tinyFreshSlabLast=true is invalid: the SFC keeps lists of its own/,
    });
    assert.throws(() => createHeap({ preset: "current", bytes: 16 * 1024 * 1024, tinyFreshSlabLast: "yes" as never }), {
      code: "INVALID_OPTION",
      message: /tinyFreshSlabLast="yes" is invalid: true or false/,
    });
  });
});
