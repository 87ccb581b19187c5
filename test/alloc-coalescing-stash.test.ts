/**
 * The coalescing tier's per-thread stash (preset current, coalescingStashBlocks): the last blocks freed
 * come back whole to mallocs of their size, newest first; a malloc it cannot serve gives them all back
 * to the tier first, where they merge; at most coalescingStashBlocks are held; it pauses while its
 * blocks go back unused, for longer each time, counting down only the frees it would have taken, until
 * blocks taken back fill its score; realloc grows into a stashed neighbour; a second free is refused;
 * check() names a broken stash; trim() and reclaimThread give the blocks back; a random run on two
 * threads keeps contents and passes check() after every op; the options are validated.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attachHeap, createHeap, type Heap } from "../lib";
import { refusal } from "./fixtures/heap-refusal";

const MiB = 1024 * 1024;
const MID_LIVE = 0xb0;
const MID_FREE = 0x90;

function stashed(heap: Heap): number[] {
  return [...heap.stashSlots].filter((b) => b !== 0);
}

/** `n` blocks of 3000 bytes, a size the tests' mallocs do not ask for, each with a live block after it so that none merge. */
function blocksNeverAskedAgain(heap: Heap, n: number): number[] {
  const blocks: number[] = [];
  for (let i = 0; i < n; i++) {
    blocks.push(heap.malloc(3000));
    heap.malloc(2000);
  }
  return blocks;
}

function freeEach(heap: Heap, blocks: number[], n: number): void {
  for (let i = 0; i < n; i++) heap.free(blocks.shift()!);
}

describe("coalescing tier's per-thread stash", () => {
  it("current stashes 4 blocks; a freed block comes back whole to the next malloc of its size, newest first, up to 1/32 larger", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    assert.equal(heap.config.coalescingStashBlocks, 4);
    const a = heap.malloc(5000);
    const b = heap.malloc(20_000);
    const c = heap.malloc(100_000);
    heap.malloc(2000); // live above them: no top to fall to
    heap.free(a);
    heap.free(b);
    heap.free(c);
    assert.equal(heap.stashCount, 3);
    assert.equal(heap.u8[a - 1], MID_FREE, "a stashed block carries the header MID_FREE");
    heap.check();
    assert.equal(heap.malloc(97_000), c, "100,000 bytes' block serves a request 3% smaller");
    assert.equal(heap.malloc(20_000), b);
    assert.equal(heap.malloc(4990), a);
    assert.equal(heap.u8[a - 1], MID_LIVE);
    assert.equal(heap.stashCount, 0);
    heap.check();
  });

  it("a malloc no stashed block serves gives them all back first: three freed neighbours merge and serve one request of all three", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    const blocks = [heap.malloc(3000), heap.malloc(3000), heap.malloc(3000)];
    heap.malloc(2000);
    for (const p of blocks) heap.free(p);
    assert.equal(heap.stashCount, 3);
    assert.equal(heap.malloc(9000), blocks[0], "the merged block, where the first was");
    assert.equal(heap.stashCount, 0);
    heap.check();
  });

  it("a request smaller than a stashed block by more than 1/32 goes to the tier", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    const p = heap.malloc(10_000);
    heap.malloc(2000);
    heap.free(p);
    assert.equal(heap.malloc(9000), p, "the stash went back: the tier splits the 10,000-byte block");
    assert.equal(heap.stashCount, 0);
    assert.ok(heap.usableSize(p) < 9100, `usable ${heap.usableSize(p)}: split, not the whole block`);
    heap.check();
  });

  it("holds at most coalescingStashBlocks blocks: the oldest goes to the tier", () => {
    const heap = createHeap({ bytes: 16 * MiB, coalescingStashBlocks: 2 });
    const blocks = [heap.malloc(4000), heap.malloc(2000), heap.malloc(4000), heap.malloc(2000), heap.malloc(4000), heap.malloc(2000)];
    for (const i of [0, 2, 4]) heap.free(blocks[i]);
    assert.equal(heap.stashCount, 2);
    assert.deepEqual(stashed(heap).sort((x, y) => x - y), [blocks[2] - 8, blocks[4] - 8], "the newest two, by their block bases");
    assert.equal(heap.u8[blocks[0] - 1], MID_FREE, "the oldest is free in the tier");
    heap.check();
  });

  it("keeps its blocks oldest first: a block taken back leaves no hole, so the next free pushes nothing out; when full, the oldest goes", () => {
    const heap = createHeap({ bytes: 16 * MiB, coalescingStashBlocks: 2 });
    const [a, b, c, d] = [4000, 5000, 6000, 7000].map((size) => {
      const p = heap.malloc(size);
      heap.malloc(2000);
      return p;
    });
    heap.free(a);
    heap.free(b);
    assert.equal(heap.malloc(5000), b);
    heap.free(c);
    assert.deepEqual([...heap.stashSlots], [a - 8, c - 8], "a stays: the stash had room for c");
    assert.equal(heap.malloc(4000), a, "the older block, below the newest");
    assert.deepEqual([...heap.stashSlots], [c - 8, 0]);
    heap.free(d);
    heap.free(b);
    assert.deepEqual([...heap.stashSlots], [d - 8, b - 8], "full: the oldest, c, went to the tier");
    heap.check();
    assert.equal(heap.malloc(6000), c, "c is free in the tier");
    heap.check();
  });

  it("pauses when its blocks go back unused: the next 64 coalescing frees go to the tier, then it stashes again, and a second pause is twice as long", () => {
    const heap = createHeap({ bytes: 64 * MiB });
    const blocks = blocksNeverAskedAgain(heap, 110);
    // 4 frees fill the slots; each later one pushes a block out, 1 off the score of 16.
    freeEach(heap, blocks, 4 + 15);
    assert.equal(heap.stashCount, 4);
    assert.equal(heap.stashPause, 0);
    freeEach(heap, blocks, 1);
    assert.equal(heap.stashCount, 0, "the score ran out: the stash went back to the tier");
    assert.equal(heap.stashPause, 64);
    heap.check();
    // A live block made to look stashed, in a paused stash.
    const p = blocks[0];
    heap.u8[p - 1] = MID_FREE;
    heap.i32[(p >> 2) + 1] = heap.tid;
    heap.stashSlots[0] = p - 8;
    heap.stashCount = 1;
    assert.match(refusal(() => heap.check()).message, /coalescing stash holds 1 blocks while it pauses \(64 frees to go\)/);
    heap.stashSlots[0] = 0;
    heap.stashCount = 0;
    heap.u8[p - 1] = MID_LIVE;
    freeEach(heap, blocks, 64);
    assert.equal(heap.stashCount, 0, "64 frees went to the tier");
    assert.equal(heap.stashPause, 0);
    freeEach(heap, blocks, 1);
    assert.equal(heap.stashCount, 1, "then a block is stashed again");
    freeEach(heap, blocks, 3 + 16);
    assert.equal(heap.stashPause, 128);
    heap.check();
  });

  it("a pause counts down only the frees the stash would have taken: one above the trim threshold goes to the tier and leaves the count", () => {
    const heap = createHeap({ bytes: 64 * MiB });
    const blocks = blocksNeverAskedAgain(heap, 24);
    const big = heap.malloc(300_000);
    heap.malloc(2000);
    freeEach(heap, blocks, 4 + 16);
    assert.equal(heap.stashPause, 64);
    freeEach(heap, blocks, 2);
    assert.equal(heap.stashPause, 62);
    heap.free(big);
    assert.equal(heap.stashPause, 62, "the 300 KB block is above the threshold of 128 KiB");
    assert.equal(heap.stashCount, 0);
    freeEach(heap, blocks, 1);
    assert.equal(heap.stashPause, 61);
    heap.check();
  });

  it("a malloc the stash cannot serve takes the blocks it gives back off the score", () => {
    const heap = createHeap({ bytes: 64 * MiB });
    const blocks = blocksNeverAskedAgain(heap, 16);
    for (let round = 1; round <= 4; round++) {
      freeEach(heap, blocks, 4);
      assert.equal(heap.stashCount, 4);
      heap.malloc(100_000);
      assert.equal(heap.stashCount, 0);
      assert.equal(heap.stashPause, round < 4 ? 0 : 64, `score ${16 - 4 * round} after round ${round}`);
    }
    heap.check();
  });

  it("a block taken back adds to the score, and taken back at its full score of 1024, brings the next pause back to 64", () => {
    const heap = createHeap({ bytes: 64 * MiB });
    const blocks = blocksNeverAskedAgain(heap, 84 + 1028);
    const p = heap.malloc(5000);
    heap.malloc(2000);
    freeEach(heap, blocks, 4 + 16 + 64);
    assert.equal(heap.stashPause, 0, "one pause of 64 went by");
    for (let i = 0; i < 1009; i++) {
      heap.free(p);
      assert.equal(heap.malloc(5000), p);
    }
    // From 16 to 1024 in 1008 blocks taken back; so 1024 blocks pushed out before it pauses.
    freeEach(heap, blocks, 4 + 1023);
    assert.equal(heap.stashPause, 0);
    freeEach(heap, blocks, 1);
    assert.equal(heap.stashPause, 64, "not 128");
    heap.check();
  });

  it("a block larger than the trim threshold goes to the tier at once: the first 200 KB block freed gives its bytes back; once the threshold rose past it, the next is stashed", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    heap.malloc(2000); // the region stays when the big block goes
    const big = heap.malloc(200_000);
    heap.u8[big + 199_999] = 1;
    const high = heap.stats().heapBytes;
    heap.free(big);
    assert.equal(heap.stashCount, 0);
    assert.ok(heap.stats().heapBytes < high - 100_000, "its bytes went back");
    assert.equal(heap.malloc(200_000), big);
    heap.free(big);
    assert.equal(heap.stashCount, 1, "the threshold is twice the block now");
    assert.equal(heap.malloc(200_000), big);
    heap.check();
  });

  it("realloc grows a block into a stashed neighbour, contents kept", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    const p = heap.malloc(4000);
    const q = heap.malloc(4000);
    heap.malloc(2000);
    for (let i = 0; i < 4000; i++) heap.u8[p + i] = i & 255;
    heap.free(q);
    assert.equal(heap.stashCount, 1);
    assert.equal(heap.realloc(p, 7000), p, "in place, through the stashed block");
    for (let i = 0; i < 4000; i++) assert.equal(heap.u8[p + i], i & 255);
    assert.equal(heap.stashCount, 0);
    heap.check();
  });

  it("refuses a second free of a stashed block by its header", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    const p = heap.malloc(3000);
    heap.free(p);
    const e = refusal(() => heap.free(p));
    assert.equal(e.code, "DOUBLE_FREE");
    assert.match(e.message, /already freed/);
    heap.check();
  });

  it("check() names a stash whose count is wrong or out of range, whose block is not stashed, or that holds another thread's block", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    const p = heap.malloc(3000);
    heap.malloc(2000);
    heap.free(p);
    heap.stashCount++;
    assert.match(refusal(() => heap.check()).message, /coalescing stash slot 1 is empty, below its count 2/);
    heap.stashCount = 5;
    assert.match(refusal(() => heap.check()).message, /coalescing stash count 5 is outside 0\.\.4/);
    heap.stashCount = 0;
    assert.match(refusal(() => heap.check()).message, /coalescing stash slot 0 holds block \d+, past its count 0/);
    heap.stashCount = 1;
    heap.u8[p - 1] = MID_LIVE;
    assert.match(refusal(() => heap.check()).message, /coalescing stash slot \d: block at \d+ has header 0xb0, not MID_FREE/);
    heap.u8[p - 1] = MID_FREE;
    heap.check();
    heap.i32[(p >> 2) + 1] = heap.tid + 1;
    assert.match(refusal(() => heap.check()).message, new RegExp(`block at \\d+ names thread ${heap.tid + 1} as its holder, not ${heap.tid}`));
  });

  it("trim() gives stashed blocks back: with nothing live the tier's pages go back", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    const ptrs = [heap.malloc(3000), heap.malloc(50_000), heap.malloc(100_000)];
    for (const p of ptrs) heap.free(p);
    assert.equal(heap.stashCount, 3);
    heap.trim();
    assert.equal(heap.stashCount, 0);
    heap.check();
    assert.ok(heap.stats().heapBytes <= 4096, `touched after trim: ${heap.stats().heapBytes}`);
  });

  it("on a shared heap, reclaimThread gives back the blocks a dead thread's stash held", () => {
    const heap = createHeap({ bytes: 16 * MiB, shared: true });
    const other = attachHeap(heap.handle());
    const p = other.malloc(6000);
    heap.malloc(2000);
    other.free(p);
    assert.equal(other.stashCount, 1);
    assert.equal(heap.reclaimThread(other.tid), 1);
    heap.check();
    assert.equal(heap.malloc(6000), p, "free in the tier again");
  });

  it("random coalescing mallocs, callocs, aligned blocks, reallocs and frees on two threads: contents kept and check() passes after every op", () => {
    // 2 slots, so blocks are pushed out, taken from below the newest and given back on misses all the time.
    const heap = createHeap({ bytes: 32 * MiB, shared: true, coalescingStashBlocks: 2 });
    const threads = [heap, attachHeap(heap.handle())];
    let seed = 0x9e3779b9;
    const draw = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    // Few sizes, so that a malloc often finds a stashed block of its size.
    const sizes = [1100, 1500, 3000, 3050, 20_000, 60_000];
    const live = new Map<number, { size: number; fill: number }>();
    const write = (p: number, size: number, fill: number) => {
      heap.u8[p] = fill;
      heap.u8[p + size - 1] = fill;
      live.set(p, { size, fill });
    };
    const intact = (p: number) => {
      const { size, fill } = live.get(p)!;
      assert.equal(heap.u8[p], fill, `block ${p}: first byte`);
      assert.equal(heap.u8[p + size - 1], fill, `block ${p}: last byte`);
    };
    let stashedAtSomePoint = 0;
    for (let op = 0; op < 3000; op++) {
      const t = threads[draw(2)];
      const blocks = [...live.keys()];
      const kind = blocks.length < 8 ? 0 : draw(6);
      const size = sizes[draw(sizes.length)];
      if (kind <= 1) {
        const p = kind === 0 ? t.malloc(size) : t.calloc(1, size);
        assert.ok(p > 0, `op ${op}: malloc(${size}) failed`);
        if (kind === 1) assert.equal(heap.u8[p + size - 1], 0, `op ${op}: calloc'd block not zeroed`);
        write(p, size, 1 + draw(255));
      } else if (kind === 2) {
        const p = t.alignedAlloc(256, size);
        assert.equal(p % 256, 0);
        write(p, size, 1 + draw(255));
      } else if (kind === 3) {
        const p = blocks[draw(blocks.length)];
        intact(p);
        const { fill, size: old } = live.get(p)!;
        live.delete(p);
        const q = t.realloc(p, size);
        assert.equal(heap.u8[q], fill, `op ${op}: realloc lost the first byte`);
        if (size >= old) assert.equal(heap.u8[q + old - 1], fill, `op ${op}: realloc lost the last byte`);
        write(q, size, fill);
      } else {
        const p = blocks[draw(blocks.length)];
        intact(p);
        live.delete(p);
        t.free(p); // by either thread: the block goes to the stash of the one that frees it
      }
      stashedAtSomePoint = Math.max(stashedAtSomePoint, threads[0].stashCount + threads[1].stashCount);
      for (const h of threads) h.check();
    }
    assert.equal(stashedAtSomePoint, 4, "both stashes were full at some point");
    for (const p of live.keys()) intact(p);
    threads[1].detach();
    assert.equal(threads[1].stashCount, 0, "detach gave the stash back");
    for (const p of live.keys()) heap.free(p);
    heap.trim();
    heap.check();
    assert.ok(heap.stats().heapBytes <= 64 * 1024, `touched after everything was freed and trimmed: ${heap.stats().heapBytes}`);
  });

  it("validates coalescingStashBlocks: an integer 0..64, and not beside coalescingCacheBlocks", () => {
    assert.equal(createHeap({ bytes: 16 * MiB, coalescingStashBlocks: 0 }).stashSlots.length, 0);
    assert.throws(() => createHeap({ bytes: 16 * MiB, coalescingStashBlocks: 65 }), /coalescingStashBlocks.*an integer 0\.\.64/);
    assert.throws(() => createHeap({ bytes: 16 * MiB, coalescingStashBlocks: 1.5 }), /coalescingStashBlocks/);
    assert.throws(() => createHeap({ bytes: 16 * MiB, coalescingCacheBlocks: 8 }), /coalescingStashBlocks.*0 with coalescingCacheBlocks 8/);
    assert.equal(createHeap({ bytes: 16 * MiB, preset: "compact" }).stashSlots.length, 0, "compact has the cache, not the stash");
  });
});
