/**
 * Spill: a front list over its capacity gives blocks back to their slabs, from its head (the newest)
 * until half its capacity is left. Spill links each run of blocks from one slab as one; these tests
 * hold it to what pushing block by block leaves (each slab's freelist, in order, and its count of
 * blocks in use), with the runs interleaved across slabs.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHeap, type Heap } from "../lib";
import { linkWord, TINY_CLASS_MASK } from "../lib/alloc/header";
import { P, PAGE_SHIFT } from "../lib/alloc/layout";

const CAPACITY = 8;

/** The blocks of a list linked through their link words, from `head`. */
function walk(heap: Heap, head: number): number[] {
  const out: number[] = [];
  for (let b = head; b !== 0; b = heap.mem.i32[linkWord(b)]) {
    out.push(b);
    assert.ok(out.length < 100_000, "list does not end (cycle?)");
  }
  return out;
}

const pageOf = (b: number) => b >>> PAGE_SHIFT;
const freelist = (heap: Heap, page: number) => walk(heap, heap.mem.i32[heap.mem.meta(page) + P.FREELIST]);
const used = (heap: Heap, page: number) => heap.mem.i32[heap.mem.meta(page) + P.USED];

describe("spill", () => {
  it("leaves each slab's freelist and count as pushing block by block would, runs interleaved across slabs", () => {
    const heap = createHeap({ tinySlabAfterBytes: 0, preset: "current", bytes: 16 * 1024 * 1024, frontCapacity: CAPACITY });
    // 1000-byte blocks: about 60 to a 64 KiB slab, so 200 of them take four slabs.
    const blocks = Array.from({ length: 200 }, () => heap.malloc(1000));
    const cls = heap.u8[blocks[0] - 1] & TINY_CLASS_MASK;
    const bySlab = new Map<number, number[]>();
    for (const p of blocks) {
      assert.equal(heap.u8[p - 1] & TINY_CLASS_MASK, cls, "every block in one class");
      const page = pageOf(p - 1);
      bySlab.set(page, [...(bySlab.get(page) ?? []), p]);
    }
    const slabs = [...bySlab.keys()];
    assert.ok(slabs.length >= 3, `the blocks should span at least 3 slabs, got ${slabs.length}`);
    // Free all but the last block of each slab (so none empties and goes back), taking slabs in
    // turn: the front list then holds runs of one to three blocks per slab, in changing order.
    const order: number[] = [];
    const queues = slabs.map((s) => bySlab.get(s)!.slice(0, -1));
    for (let turn = 0; queues.some((q) => q.length > 0); turn++) {
      for (let i = 0; i < queues.length; i++) {
        const q = queues[(i + turn) % queues.length];
        order.push(...q.splice(0, 1 + ((turn + i) % 3)));
      }
    }
    let spills = 0;
    for (const p of order) {
      const front = walk(heap, heap.heads[cls]);
      const before = new Map(slabs.map((s) => [s, { list: freelist(heap, s), used: used(heap, s) }]));
      heap.free(p);
      const pushed = [p - 1, ...front];
      if (pushed.length <= CAPACITY) {
        assert.deepEqual(walk(heap, heap.heads[cls]), pushed, "a free below capacity only pushes");
        continue;
      }
      spills++;
      const n = pushed.length - (CAPACITY >> 1);
      const spilled = pushed.slice(0, n);
      assert.deepEqual(walk(heap, heap.heads[cls]), pushed.slice(n), "the front list keeps its oldest blocks, half its capacity");
      assert.equal(heap.counts[cls], pushed.length - n);
      for (const s of slabs) {
        const mine = spilled.filter((b) => pageOf(b) === s);
        const want = [...mine.reverse(), ...before.get(s)!.list];
        assert.deepEqual(freelist(heap, s), want, `slab ${s}: freelist after a spill of ${n}`);
        assert.equal(used(heap, s), before.get(s)!.used - mine.length, `slab ${s}: blocks in use`);
      }
    }
    assert.ok(spills >= 20, `the frees should spill many times, spilled ${spills}`);
    heap.check();
    // In use to a slab: its one live block and its blocks still on the front list.
    const front = walk(heap, heap.heads[cls]);
    for (const s of slabs) assert.equal(used(heap, s), 1 + front.filter((b) => pageOf(b) === s).length, `slab ${s}: blocks in use at the end`);
  });
});
