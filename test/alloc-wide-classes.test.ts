/**
 * Tiny classes past the header's four bits (header.ts, TINY_CLASS_MASK): `current` has 17, and a
 * class from 16 on writes TINY_LIVE | class, 0xB0 | (class - 16), the byte a coalescing block's header
 * has. The pointer tells them apart (a tiny block's is 1 mod 8, a coalescing one's 8 mod 16), on every
 * route: free's header route, realloc, usableSize, remote frees, double frees, the debug build.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attachHeap, createHeap, FINE_TINY_CLASSES, HeapError, resolveConfig, WIDE_TINY_CLASSES } from "../lib";
import { headerMagic, MID_LIVE, TINY_LIVE } from "../lib/alloc/header";

const MiB = 1 << 20;
/** `current`'s classes from 16 on (1032 bytes), each asked for its usable bytes. */
const WIDE_CLASSES = WIDE_TINY_CLASSES.map((_, cls) => cls).slice(16);
const WIDE_REQUESTS = WIDE_CLASSES.map((cls) => WIDE_TINY_CLASSES[cls] - 1);
const LAST = WIDE_TINY_CLASSES.length - 1;

describe("wide tiny headers", () => {
  it("current's classes from 16 on write 0xB0 | (class - 16) at 1 mod 8, beside coalescing blocks' 0xB0 at 8 mod 16, and each frees to its own tier", () => {
    const heap = createHeap({ tinySlabAfterBytes: 0, preset: "current", bytes: 16 * MiB, fastStats: true });
    assert.deepEqual(heap.config.tinyClasses, WIDE_TINY_CLASSES);
    assert.equal(heap.mem.wideTinyHeaders, true);
    const tiny = WIDE_REQUESTS.map((n) => heap.malloc(n));
    const mid = heap.malloc(1500);
    assert.ok(WIDE_CLASSES.length > 0);
    assert.deepEqual(tiny.map((p) => [heap.u8[p - 1], p % 8]), WIDE_CLASSES.map((cls) => [0xb0 | (cls - 16), 1]));
    assert.deepEqual([heap.u8[mid - 1], mid % 16], [MID_LIVE, 8]);
    assert.deepEqual(tiny.map((p) => heap.usableSize(p)), WIDE_REQUESTS);
    assert.deepEqual(tiny.map((p) => headerMagic(heap.u8[p - 1], p, true)), WIDE_CLASSES.map(() => TINY_LIVE));
    assert.equal(headerMagic(heap.u8[mid - 1], mid, true), MID_LIVE);
    for (const p of [...tiny, mid]) heap.free(p);
    assert.deepEqual([heap.stats().routes.header_fast, heap.stats().routes.mid], [WIDE_CLASSES.length, 1], "the tiny frees took the header route");
    // The tiny blocks went to their front lists, the coalescing block to its tier.
    assert.ok(WIDE_CLASSES.every((cls) => heap.frontLength(cls) > 0));
    assert.deepEqual(WIDE_REQUESTS.map((n) => heap.malloc(n)), tiny, "the freed blocks come back first");
    heap.check();
  });

  it("a wide block's double free and use after free are refused by name, in the release and the debug build", () => {
    for (const build of ["release", "debug"] as const) {
      const heap = createHeap({ tinySlabAfterBytes: 0, preset: "current", bytes: 16 * MiB, build });
      const p = heap.malloc(1000);
      heap.free(p);
      assert.throws(() => heap.free(p), (e: unknown) => e instanceof HeapError && e.code === "DOUBLE_FREE" && new RegExp(`free tiny block of class ${LAST}`).test(e.message), build);
      assert.throws(() => heap.usableSize(p), (e: unknown) => e instanceof HeapError && /block is free/.test(e.message), build);
      heap.check();
    }
  });

  it("realloc moves a block into and out of a wide class, keeping its bytes", () => {
    const heap = createHeap({ tinySlabAfterBytes: 0, preset: "current", bytes: 16 * MiB });
    const p = heap.malloc(500);
    heap.u8.fill(7, p, p + 500);
    const q = heap.realloc(p, 1000);
    assert.equal(heap.u8[q - 1], 0xb0 | (LAST - 16));
    assert.ok(heap.u8.subarray(q, q + 500).every((b) => b === 7), "the bytes moved");
    const r = heap.realloc(q, 100);
    assert.equal(heap.u8[r - 1] & 0xf0, TINY_LIVE, "shrunk below half: a narrow class again");
    assert.ok(heap.u8.subarray(r, r + 100).every((b) => b === 7));
    heap.free(r);
    heap.check();
  });

  it("a wide block freed by another thread goes back to its owner's slab", () => {
    const owner = createHeap({ tinySlabAfterBytes: 0, preset: "current", bytes: 16 * MiB, shared: true });
    const other = attachHeap(owner.handle());
    const blocks = Array.from({ length: 40 }, () => owner.malloc(1000));
    for (const p of blocks) other.free(p);
    assert.equal(other.stats().counters.remote_free, 40, "every free was remote");
    assert.equal(other.frontLength(LAST), 0, "none on the freeing thread's list");
    const again = new Set(Array.from({ length: 200 }, () => owner.malloc(1000)));
    assert.ok(blocks.every((p) => again.has(p)), "the owner hands its blocks out again");
    owner.check();
    other.detach();
  });

  it("a heap that would mistake wide headers takes the preset's sixteen classes, and refuses 17 or more given to it", () => {
    assert.deepEqual(resolveConfig({ preset: "current", midTier: "classes" }).tinyClasses, FINE_TINY_CLASSES);
    assert.deepEqual(resolveConfig({ preset: "current", layeredFastPath: true, tinyBorrowNextClass: false, tinyFreshSlabLast: false, tinyRefillWholeFreelist: false }).tinyClasses, FINE_TINY_CLASSES);
    assert.deepEqual(resolveConfig({ preset: "current", tinyMaxClass: 15 }).tinyClasses, WIDE_TINY_CLASSES, "sixteen in use: no wide header");
    assert.equal(createHeap({ preset: "current", tinyMaxClass: 15, bytes: 4 * MiB }).mem.wideTinyHeaders, false);
    assert.throws(() => resolveConfig({ preset: "current", midTier: "classes", tinyClasses: WIDE_TINY_CLASSES }), /which the class mid tier's headers would mistake/);
  });
});
