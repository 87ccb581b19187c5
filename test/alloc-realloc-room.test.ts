/**
 * reallocRoomToGrow (preset current): a realloc that moves a growing block into the coalescing tier
 * puts it at the start of the free block the tier's last free made, when that has twice its bytes, so
 * the next growth stays where it landed; the tier forgets that block once it is no longer free.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHeap, resolveConfig, type HeapOptions } from "../lib";
import { H } from "../lib/alloc/layout";
import { fill, intact } from "./fixtures/block-bytes";
import { refusal } from "./fixtures/heap-refusal";

const MiB = 1024 * 1024;

/**
 * Coalescing blocks side by side, live ones between them: `hole` (3000 bytes, the good fit for a
 * 2900-byte request) and `spare` (`spareBytes`) freed in that order, `beforeSpare` live right before
 * `spare`, and `grown`, a 2000-byte block with a live block after it, filled with a pattern. No stash, so each free reaches the tier at once.
 */
function layout(spareBytes: number, options: HeapOptions = {}) {
  const heap = createHeap({ bytes: 16 * MiB, coalescingStashBlocks: 0, ...options });
  const hole = heap.malloc(3000);
  heap.malloc(2000);
  const beforeSpare = heap.malloc(2000);
  const spare = heap.malloc(spareBytes);
  heap.malloc(2000);
  const grown = heap.malloc(2000);
  heap.malloc(2000);
  fill(heap, grown, 2000, 5);
  heap.free(hole);
  heap.free(spare);
  return { heap, hole, beforeSpare, spare, grown };
}

describe("realloc: room to grow", () => {
  it("is on in current, off in compact and the seed's presets, and HAKMEM_REALLOC_ROOM_TO_GROW sets it", () => {
    assert.equal(resolveConfig({}, {}).reallocRoomToGrow, true);
    assert.equal(resolveConfig({ preset: "compact" }, {}).reallocRoomToGrow, false);
    assert.equal(resolveConfig({ preset: "phase7" }, {}).reallocRoomToGrow, false);
    assert.equal(resolveConfig({}, { HAKMEM_REALLOC_ROOM_TO_GROW: "false" }).reallocRoomToGrow, false);
    assert.equal(resolveConfig({ align: 8 }, {}).reallocRoomToGrow, false, "a header-free heap has no coalescing tier: off, its config hash as before");
    assert.match(refusal(() => createHeap({ reallocRoomToGrow: "yes" as unknown as boolean })).message, /reallocRoomToGrow="yes" is invalid: true or false/);
  });

  for (const options of [{}, { shared: true }, { build: "debug" as const }]) {
    it(`a moved block lands at the start of the last freed block with twice its room, and grows there next (${JSON.stringify(options)})`, () => {
      const { heap, spare, grown } = layout(20_000, options);
      const moved = heap.realloc(grown, 2900);
      assert.equal(moved, spare, "the last freed block, not the 3000-byte good fit");
      assert.ok(intact(heap, moved, 2000, 5));
      heap.check();
      assert.equal(heap.realloc(moved, 9000), moved, "the rest of that block lets it grow in place");
      assert.ok(intact(heap, moved, 2000, 5));
      heap.free(moved);
      heap.check();
    });
  }

  it("without the option the move takes the good fit, with no room after it", () => {
    const { heap, hole, grown } = layout(20_000, { reallocRoomToGrow: false });
    const moved = heap.realloc(grown, 2900);
    assert.equal(moved, hole);
    assert.notEqual(heap.realloc(moved, 9000), moved, "no room: moved again");
    heap.check();
  });

  it("a last freed block with less than twice the room leaves the move to malloc", () => {
    const { heap, hole, spare, grown } = layout(5000);
    assert.equal(heap.realloc(grown, 2900), hole);
    assert.equal(heap.malloc(4990), spare, "the last freed block is still free and whole");
    heap.check();
  });

  it("forgets the last freed block once a malloc takes it: the next move does not land on it", () => {
    const { heap, spare, grown } = layout(20_000);
    const taker = heap.malloc(19_990);
    assert.equal(taker, spare);
    fill(heap, taker, 19_990, 9);
    const moved = heap.realloc(grown, 2900);
    assert.notEqual(moved, spare);
    assert.ok(intact(heap, taker, 19_990, 9), "the block that took it is untouched");
    assert.ok(intact(heap, moved, 2000, 5));
    heap.check();
  });

  it("follows a merge: a free that joins the last freed block to the block before it makes that the last", () => {
    const { heap, beforeSpare, grown } = layout(20_000);
    heap.free(beforeSpare); // merges with the free block after it, whose start is gone
    const moved = heap.realloc(grown, 2900);
    assert.equal(moved, beforeSpare, "the merged block's start");
    assert.ok(intact(heap, moved, 2000, 5));
    heap.check();
  });

  it("forgets the last freed block when trim splits its region there and gives its pages back", () => {
    const heap = createHeap({ bytes: 16 * MiB, coalescingStashBlocks: 0 });
    const below = heap.malloc(3000);
    const big = heap.malloc(400 * 1024);
    const above = heap.malloc(3000);
    fill(heap, above, 3000, 7);
    heap.free(big);
    assert.equal(heap.i32[H.COALESCING_LAST_FREED], big - 8);
    heap.trim();
    assert.equal(heap.i32[H.COALESCING_LAST_FREED], 0);
    heap.check();
    const moved = heap.realloc(below, 2900);
    assert.ok(intact(heap, above, 3000, 7), "the block above the split is untouched");
    heap.free(moved);
    heap.free(above);
    heap.check();
  });

  it("check() names a last freed block that is not on a free list", () => {
    const { heap, grown } = layout(20_000);
    heap.i32[H.COALESCING_LAST_FREED] = grown - 8; // a live block's base
    assert.match(refusal(() => heap.check()).message, /the last freed block .* is on no free list/);
  });
});
