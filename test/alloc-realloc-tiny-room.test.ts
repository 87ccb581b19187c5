/**
 * reallocTinyRoom (preset current): a tiny block that realloc grows by at most REALLOC_TINY_ROOM_STEP
 * bytes past its usable size moves to a block for twice the bytes asked, so that the next growth
 * stays where it landed (sqlite's 16 -> 24 -> 48-byte strings move once, not twice). Both of
 * realloc's paths take the same class: the fast path's, whose front list holds a block, and
 * reallocSlow's, on a fresh heap or another thread's block.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attachHeap, createHeap, resolveConfig, WIDE_TINY_CLASSES, type Heap, type HeapOptions } from "../lib";
import { REALLOC_TINY_ROOM_STEP } from "../lib/alloc/heap";
import { fill, intact } from "./fixtures/block-bytes";
import { refusal } from "./fixtures/heap-refusal";

const MiB = 1024 * 1024;
/** The smallest class: 24 bytes, 23 usable behind the header. */
const SMALLEST_USABLE = WIDE_TINY_CLASSES[0] - 1;

/** The usable bytes of the smallest tiny class that holds `n` bytes. */
function classUsable(n: number): number {
  return WIDE_TINY_CLASSES.find((b) => b - 1 >= n)! - 1;
}

/** The front list of the class holding `n` bytes made to hold a block (the fast path's case). */
function stock(heap: Heap, n: number): void {
  heap.free(heap.malloc(n));
}

describe("realloc: room for a tiny block grown a few bytes past its class", () => {
  it("is on in current, off in compact and the seed's presets, and HAKMEM_REALLOC_TINY_ROOM sets it", () => {
    assert.equal(resolveConfig({}, {}).reallocTinyRoom, true);
    assert.equal(resolveConfig({ preset: "compact" }, {}).reallocTinyRoom, false);
    assert.equal(resolveConfig({ preset: "phase7" }, {}).reallocTinyRoom, false);
    assert.equal(resolveConfig({}, { HAKMEM_REALLOC_TINY_ROOM: "false" }).reallocTinyRoom, false);
    assert.equal(resolveConfig({ align: 8 }, {}).reallocTinyRoom, false, "a header-free heap reads no tiny header: off, its config hash as before");
    assert.match(refusal(() => createHeap({ reallocTinyRoom: "yes" as unknown as boolean })).message, /reallocTinyRoom="yes" is invalid: true or false/);
  });

  const cases: [string, HeapOptions, boolean][] = [
    ["fast path", {}, true],
    ["reallocSlow", {}, false],
    ["debug build", { build: "debug" }, true],
  ];
  for (const [name, options, stocked] of cases) {
    it(`16 -> 24 -> 48 bytes moves once, into a block for 48 (${name})`, () => {
      const heap = createHeap({ bytes: 16 * MiB, ...options });
      if (stocked) stock(heap, 48);
      const p = heap.malloc(16);
      assert.equal(heap.usableSize(p), SMALLEST_USABLE);
      fill(heap, p, 16, 9);
      const q = heap.realloc(p, 24);
      assert.notEqual(q, p, "24 bytes do not fit the 23");
      assert.equal(heap.usableSize(q), classUsable(48), "room for twice the 24 bytes asked");
      assert.ok(intact(heap, q, 16, 9));
      fill(heap, q, 24, 4);
      assert.equal(heap.realloc(q, 48), q, "the second growth stays");
      assert.ok(intact(heap, q, 24, 4));
      heap.free(q);
      heap.check();
    });
  }

  it(`a growth of more than ${REALLOC_TINY_ROOM_STEP} bytes past the usable ones takes the class of the bytes asked, on both paths`, () => {
    for (const stocked of [true, false]) {
      const heap = createHeap({ bytes: 16 * MiB });
      const to = SMALLEST_USABLE + REALLOC_TINY_ROOM_STEP + 1;
      if (stocked) stock(heap, 2 * to);
      const p = heap.malloc(16);
      const q = heap.realloc(p, to);
      assert.equal(heap.usableSize(q), classUsable(to), `realloc(malloc(16), ${to}), front list stocked: ${stocked}`);
      heap.free(q);
      heap.check();
    }
  });

  it(`every step of 1 to ${REALLOC_TINY_ROOM_STEP} bytes past every tiny class gets twice the bytes asked, within the tiny tier`, () => {
    const heap = createHeap({ bytes: 32 * MiB });
    const largest = WIDE_TINY_CLASSES[WIDE_TINY_CLASSES.length - 1] - 1;
    for (const block of WIDE_TINY_CLASSES.slice(0, -1)) {
      for (let step = 1; step <= REALLOC_TINY_ROOM_STEP; step++) {
        const usable = block - 1;
        const to = usable + step;
        const p = heap.malloc(usable);
        fill(heap, p, usable, block);
        const q = heap.realloc(p, to);
        assert.equal(heap.usableSize(q), classUsable(Math.min(2 * to, largest)), `realloc(malloc(${usable}), ${to})`);
        assert.ok(intact(heap, q, usable, block), `realloc(malloc(${usable}), ${to}) kept the bytes`);
        heap.free(q);
      }
    }
    heap.check();
  });

  it("without the option a block grown one byte past its class takes the next class", () => {
    const heap = createHeap({ bytes: 16 * MiB, reallocTinyRoom: false });
    stock(heap, 48);
    const q = heap.realloc(heap.malloc(16), 24);
    assert.equal(heap.usableSize(q), classUsable(24));
    assert.notEqual(heap.realloc(q, 48), q, "no room: moved again");
    heap.check();
  });

  it("another thread's block takes the room too, and goes back to its owner", () => {
    // tinySlabAfterBytes 0: the block on a slab its owner owns, not inside a coalescing block.
    const owner = createHeap({ bytes: 16 * MiB, shared: true, tinySlabAfterBytes: 0 });
    const other = attachHeap(owner.handle());
    const p = owner.malloc(16);
    fill(owner, p, 16, 2);
    const q = other.realloc(p, 24);
    assert.equal(other.usableSize(q), classUsable(48));
    assert.ok(intact(other, q, 16, 2));
    assert.equal(other.stats().counters.remote_free, 1, "the old block went to its owner");
    other.free(q);
    owner.check();
  });

  it("out of memory for the room, realloc still gets a block for the bytes asked", () => {
    // The heap filled with 31-byte blocks once a 16-byte one lives, one of them freed: no page is left
    // for the 56-byte class the room asks, but a 32-byte block is free.
    const heap = createHeap({ bytes: 4 * MiB, tinySlabAfterBytes: 0 });
    const p = heap.malloc(16);
    fill(heap, p, 16, 6);
    let last = 0;
    for (let b = heap.malloc(31); b !== 0; b = heap.malloc(31)) last = b;
    assert.equal(heap.malloc(55), 0, "no block for the room");
    heap.free(last);
    const q = heap.realloc(p, 24);
    assert.notEqual(q, 0, "a block for 24 bytes was free");
    assert.equal(heap.usableSize(q), classUsable(24));
    assert.ok(intact(heap, q, 16, 6));
    heap.check();
  });
});
