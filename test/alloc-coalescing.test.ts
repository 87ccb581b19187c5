/**
 * The coalescing mid tier (preset current): block sizes and alignment, neighbours merged on free, the
 * top lowered and trimmed, realloc in place, refusals, check() catching broken tags, and a shadow
 * model over random mallocs, callocs, reallocs and frees.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { COALESCING_MAX_REQUEST, createHeap, type Heap } from "../lib";
import { walkCoalescing } from "../lib/alloc/coalescing";
import { headerMagic, TINY_LIVE } from "../lib/alloc/header";
import { fill, intact } from "./fixtures/block-bytes";
import { refusal } from "./fixtures/heap-refusal";

const KiB = 1024;
const MiB = 1024 * KiB;
const MID_LIVE = 0xb0;
/** The first request past the tiny tier on preset current (its largest tiny block is 1032 bytes). */
const FIRST_MID = 1032;

describe("coalescing mid tier", () => {
  it("serves every request from the tiny tier's end to coalescingMaxRequest (here COALESCING_MAX_REQUEST): header 0xB0, 8 mod 16 as glibc's, usable size within 16 bytes of the request", () => {
    const heap = createHeap({ bytes: 16 * MiB, coalescingMaxRequest: COALESCING_MAX_REQUEST });
    assert.equal(heap.config.midTier, "coalescing");
    const sizes = [FIRST_MID, FIRST_MID + 1, 2047, 2048, 4096, 4368, 65_536, 100_000, COALESCING_MAX_REQUEST];
    const blocks = sizes.map((size, i) => {
      const p = heap.malloc(size);
      assert.equal(heap.u8[p - 1], MID_LIVE, `malloc(${size}) header`);
      assert.equal(p % 16, 8, `malloc(${size}) = ${p} is not 8 mod 16`);
      const usable = heap.usableSize(p);
      assert.ok(usable >= size && usable < size + 16, `malloc(${size}): usable ${usable}`);
      fill(heap, p, size, i);
      return { p, size, i };
    });
    for (const b of blocks) assert.ok(intact(heap, b.p, b.size, b.i), `malloc(${b.size}) lost its contents`);
    const last = heap.malloc(FIRST_MID - 1);
    assert.equal(headerMagic(heap.u8[last - 1], last, heap.mem.wideTinyHeaders), TINY_LIVE, "one byte less is tiny");
    assert.notEqual(heap.u8[heap.malloc(COALESCING_MAX_REQUEST + 1) - 1], MID_LIVE, "one byte more is large");
    heap.check();
  });

  it("coalescingMaxRequest moves the tier's end: compact serves 8 MiB from it, one byte more is large, and realloc grows a block across the old end in place", () => {
    const heap = createHeap({ preset: "compact", bytes: 64 * MiB });
    assert.equal(heap.config.coalescingMaxRequest, 8 * MiB);
    const big = heap.malloc(8 * MiB);
    assert.equal(heap.u8[big - 1], MID_LIVE, "8 MiB is the tier's");
    assert.equal(big % 16, 8);
    fill(heap, big, 8 * MiB, 3);
    assert.notEqual(heap.u8[heap.malloc(8 * MiB + 1) - 1], MID_LIVE, "one byte more is large");
    const p = heap.malloc(200 * KiB);
    fill(heap, p, 200 * KiB, 5);
    const q = heap.realloc(p, 600 * KiB);
    assert.equal(q, p, "the block at its region's top grows where it is");
    assert.equal(heap.u8[q - 1], MID_LIVE);
    assert.ok(intact(heap, q, 200 * KiB, 5) && intact(heap, big, 8 * MiB, 3));
    heap.check();
  });

  it("merges a freed block with free neighbours: two freed blocks side by side serve one request of both", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    const [a, b, c, guard] = [5000, 7000, 3000, 2000].map((n) => heap.malloc(n));
    assert.ok(a < b && b < c && c < guard, "carved upward in order");
    heap.free(a);
    heap.free(c);
    heap.free(b); // merges with both
    heap.check();
    const whole = heap.malloc(15_000);
    assert.equal(whole, a, "the merged block serves a request none of the three could");
    assert.equal(heap.malloc(8000) > guard, true, "nothing free before the guard is left for another 8000");
    heap.check();
  });

  it("a freed last block lowers the top; touched bytes more than 128 KiB above it go back; trim() returns the pages", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    const keep = heap.malloc(2000);
    const ptrs = Array.from({ length: 20 }, () => heap.malloc(20_000));
    for (const p of ptrs) heap.u8[p] = 1;
    const high = heap.stats().heapBytes;
    assert.ok(high >= 20 * 20_000, `touched ${high}`);
    for (const p of ptrs.reverse()) heap.free(p);
    heap.check();
    const after = heap.stats().heapBytes;
    assert.ok(after <= 4 * KiB + 128 * KiB && after < high - 128 * KiB, `at most 128 KiB stays touched above the kept block: ${after}`);
    heap.trim();
    heap.check();
    assert.equal(heap.stats().heapBytes, 4 * KiB, "trim: only the kept block's 4 KiB stay touched");
    assert.equal(heap.malloc(20_000), ptrs[ptrs.length - 1], "the top is where it was before them");
    heap.free(keep);
    heap.trim();
    assert.equal(heap.stats().mappedBytes, 64 * KiB, "only the other live block's region page stays mapped");
  });

  it("the trim threshold rises to twice the largest block freed into a top, as glibc's: a 200 KB block freed the second time stays touched", () => {
    const heap = createHeap({ bytes: 16 * MiB, coalescingStashBlocks: 0 }); // each free reaches the tier at once
    const keep = heap.malloc(2000);
    const big = heap.malloc(200_000);
    heap.u8[big] = 1;
    const high = heap.stats().heapBytes;
    heap.free(big);
    heap.check();
    assert.equal(heap.stats().heapBytes, 4 * KiB, "the first time, 200 KB above the top is past 128 KiB: it goes back, as glibc unmaps the first such chunk");
    assert.equal(heap.malloc(200_000), big, "taken again at the same top");
    assert.equal(heap.stats().heapBytes, high);
    heap.free(big);
    assert.equal(heap.stats().heapBytes, high, "the second time, the threshold is twice the block: nothing goes back");
    const [p1, p2, p3] = [heap.malloc(200_000), heap.malloc(200_000), heap.malloc(200_000)];
    assert.equal(p1, big);
    const three = heap.stats().heapBytes;
    heap.free(p3);
    assert.equal(heap.stats().heapBytes, three, "the top fell 200 KB: below the threshold");
    heap.free(p2);
    heap.check();
    // Now 400,032 bytes above the top, past the threshold (2 * 200,016): all of them go back, as glibc's systrim.
    const reach = 2016 + 200_016 + 4;
    assert.equal(heap.stats().heapBytes, Math.ceil(reach / (4 * KiB)) * 4 * KiB, "touched up to the last live block's reach");
    heap.free(p1);
    heap.trim();
    assert.equal(heap.stats().heapBytes, 4 * KiB, "trim gives back everything above the top still");
    heap.free(keep);
  });

  it("realloc grows in place into a free neighbour or past the top, else moves; contents kept", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    const a = heap.malloc(3000);
    const b = heap.malloc(9000);
    const c = heap.malloc(3000);
    fill(heap, a, 3000, 1);
    fill(heap, c, 3000, 3);
    heap.free(b);
    assert.equal(heap.realloc(a, 11_000), a, "into the free block after it");
    assert.ok(intact(heap, a, 3000, 1));
    heap.check();
    assert.equal(heap.realloc(c, 50_000), c, "the last block grows past the top");
    assert.ok(intact(heap, c, 3000, 3));
    const d = heap.realloc(a, 30_000);
    assert.notEqual(d, a, "no room after it: moved");
    assert.ok(intact(heap, d, 3000, 1));
    heap.check();
  });

  it("realloc grows the last block past its region's end into the free pages after it, and moves it where they are taken", () => {
    const heap = createHeap({ preset: "compact", bytes: 64 * MiB });
    const p = heap.malloc(900 * KiB); // a region of 1 MiB
    fill(heap, p, 900 * KiB, 7);
    const resident = heap.stats().residentBytes;
    const q = heap.realloc(p, 1500 * KiB);
    assert.equal(q, p, "the region takes the pages after it");
    assert.ok(intact(heap, q, 900 * KiB, 7));
    fill(heap, q, 1500 * KiB, 8);
    const grown = heap.stats().residentBytes - resident;
    assert.ok(grown < 700 * KiB, `growing 900 KiB to 1500 KiB wrote ${grown >> 10} KiB more: only the new bytes`);
    heap.check();
    // A large block takes the arena's pages right after the region: the next growth must move.
    const large = heap.malloc(8 * MiB + 1);
    assert.notEqual(heap.u8[large - 1], MID_LIVE);
    const r = heap.realloc(q, 2000 * KiB);
    assert.notEqual(r, q, "the pages after the region are the large block's: moved");
    assert.ok(intact(heap, r, 1500 * KiB, 8));
    assert.ok(r + 2000 * KiB <= large || r > large + 8 * MiB, "the moved block does not overlap the large one");
    heap.check();
  });

  /** Each region of the tier: its first page, top and pages. */
  function regions(heap: Heap): { first: number; top: number; pages: number }[] {
    const out: { first: number; top: number; pages: number }[] = [];
    walkCoalescing(heap.mem, { region: (first, top, _units, pages) => out.push({ first, top, pages }) });
    return out;
  }

  it("trim() gives back the whole pages inside a free block below a top: the region splits there, and other tiers get the pages", () => {
    for (const preset of ["current", "compact"] as const) {
      const heap = createHeap({ preset, bytes: 8 * MiB });
      const a = heap.malloc(6 * MiB);
      const b = heap.malloc(150 * KiB);
      fill(heap, b, 150 * KiB, 3);
      heap.free(a);
      heap.trim();
      const [low, high, ...rest] = regions(heap);
      assert.equal(rest.length, 0);
      assert.equal(high, undefined, `${preset}: a free block at a region's start leaves no region below it`);
      assert.equal(low.pages, Math.ceil((150 * KiB + 8 + 4 + 16) / (64 * KiB)), `${preset}: the region keeps the pages its live block reaches`);
      assert.ok(heap.stats().heapBytes < 200 * KiB, `${preset}: ${heap.stats().heapBytes} bytes held`);
      // Before, the region held the pages: no SuperSlab could be mapped and malloc(8) returned 0.
      const c = heap.malloc(8);
      const d = heap.calloc(16, 24);
      assert.notEqual(c, 0, preset);
      assert.notEqual(d, 0, preset);
      assert.ok(intact(heap, b, 150 * KiB, 3), `${preset}: the live block keeps its bytes`);
      heap.check();
      for (const p of [b, c, d]) heap.free(p);
      heap.trim();
      assert.equal(heap.stats().heapBytes, 0);
      heap.check();
    }
  });

  it("trim() splits a region at every such free block, one after another, the first with no block below it", () => {
    const heap = createHeap({ bytes: 64 * MiB });
    // 1 MiB blocks, a region grown in place under them; every third kept.
    const blocks = Array.from({ length: 12 }, () => heap.malloc(MiB));
    const kept = blocks.filter((_, i) => i % 3 === 2);
    kept.forEach((p, i) => fill(heap, p, 4096, i));
    blocks.forEach((p, i) => i % 3 !== 2 && heap.free(p));
    assert.ok(regions(heap).length < kept.length, "fewer regions than kept blocks before the trim");
    heap.trim();
    const after = regions(heap);
    assert.equal(after.length, kept.length, "a region per kept block");
    // Each holds its block, after what was left of the free block on its first page.
    for (const r of after) assert.ok(r.top >= MiB + 16 && r.top < MiB + 16 + 64 * KiB, `top ${r.top}`);
    assert.ok(heap.stats().heapBytes <= kept.length * (MiB + 68 * KiB), `${heap.stats().heapBytes} bytes held`);
    kept.forEach((p, i) => assert.ok(intact(heap, p, 4096, i)));
    heap.check();
    for (const p of kept) heap.free(p);
    heap.trim();
    assert.equal(heap.stats().heapBytes, 0);
    heap.check();
  });

  it("a split keeps the blocks below as the region's, the free block's bytes on the next page as the new region's first block", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    const a = heap.malloc(3000);
    const big = heap.malloc(300_000);
    const c = heap.malloc(5000);
    fill(heap, a, 3000, 1);
    fill(heap, c, 5000, 2);
    heap.free(big);
    heap.trim();
    const [low, high] = regions(heap);
    assert.equal(low.top, 3008, "the top falls to the free block's start");
    assert.equal(low.pages, 1);
    const end = a - 8 + 3008 + 300_016; // the free block's end: c's block starts there
    assert.equal(high.first, Math.floor(end / (64 * KiB)));
    assert.equal(high.top, end - high.first * 64 * KiB + 5008, "its first block, free, then c's");
    assert.ok(intact(heap, a, 3000, 1) && intact(heap, c, 5000, 2));
    heap.check();
    // The remainder serves a request of its size; both regions keep working.
    const r = heap.malloc(end - high.first * 64 * KiB - 8);
    assert.equal(r, high.first * 64 * KiB + 8);
    heap.free(a);
    heap.free(c);
    heap.free(r);
    heap.check();
  });

  it("a free block ending on a page boundary: the block above starts the new region, no longer after a free one", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    const a = heap.malloc(3000);
    const region = (a - 8) / (64 * KiB);
    // Up to the end of the region's third page: a 3008-byte block, then one of 3 * 64 KiB - 3008.
    const big = heap.malloc(3 * 64 * KiB - 3008 - 4);
    const c = heap.malloc(4000);
    assert.equal(c - 8, (region + 3) * 64 * KiB);
    fill(heap, c, 4000, 5);
    heap.free(big);
    heap.trim();
    const [low, high] = regions(heap);
    assert.deepEqual([low.first, low.pages, low.top], [region, 1, 3008]);
    assert.deepEqual([high.first, high.top], [region + 3, 4016]);
    assert.ok(intact(heap, c, 4000, 5));
    heap.check();
    heap.free(c);
    heap.free(a);
    heap.check();
  });

  it("refuses an interior pointer by name, a second free, and a pointer into a merged block", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    const a = heap.malloc(4000);
    const b = heap.malloc(4000);
    heap.malloc(4000);
    const inner = refusal(() => heap.free(a + 48));
    assert.equal(inner.code, "INVALID_POINTER");
    heap.u8[a + 47] = MID_LIVE; // a stale-looking header inside a block: the validating route still names it
    assert.match(refusal(() => heap.usableSize(a + 48)).message, new RegExp(`interior pointer, 48 bytes into the ${heap.usableSize(a)}-byte mid block at`));
    heap.free(b);
    assert.equal(refusal(() => heap.free(b)).code, "DOUBLE_FREE");
    heap.free(a); // merges with b
    assert.equal(refusal(() => heap.free(b)).code, "DOUBLE_FREE", "b's header still says free inside the merged block");
    heap.check();
  });

  it("check() names a broken boundary tag", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    const a = heap.malloc(4000);
    heap.malloc(4000);
    heap.check();
    heap.i32[(a - 8 + 4) >> 2] = 4000; // a's size word no longer a multiple of 16 plus flags that agree
    assert.match(refusal(() => heap.check()).message, /coalescing mid tier/);
  });

  it("shadow model: random malloc, calloc, realloc, alignedAlloc and free keep every block's contents and check() holds", () => {
    const heap = createHeap({ bytes: 64 * MiB });
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const size = () => (rnd() < 0.7 ? FIRST_MID + Math.floor(rnd() * 8000) : Math.floor(rnd() * 300_000));
    const live: { p: number; n: number; tag: number; aligned: boolean }[] = [];
    for (let i = 0; i < 6000; i++) {
      const r = rnd();
      if (r < 0.45 || live.length === 0) {
        const n = size();
        const kind = rnd();
        const aligned = kind > 0.9;
        const p = kind < 0.1 ? heap.calloc(1, n) : aligned ? heap.alignedAlloc(256, n) : heap.malloc(n);
        assert.notEqual(p, 0, `op ${i}: out of memory`);
        if (kind < 0.1) for (let j = 0; j < n; j += 61) assert.equal(heap.u8[p + j], 0, `op ${i}: calloc not zeroed`);
        if (aligned) assert.equal(p % 256, 0);
        live.push({ p, n, tag: i & 255, aligned });
        heap.u8.fill(i & 255, p, p + n);
      } else {
        const k = Math.floor(rnd() * live.length);
        const b = live[k];
        for (let j = 0; j < b.n; j += 97) assert.equal(heap.u8[b.p + j], b.tag, `op ${i}: block ${b.p} lost its contents`);
        if (r < 0.85 || b.aligned) {
          heap.free(b.p);
          live[k] = live[live.length - 1];
          live.pop();
        } else {
          const n = size() + 1;
          const q = heap.realloc(b.p, n);
          for (let j = 0; j < Math.min(n, b.n); j += 97) assert.equal(heap.u8[q + j], b.tag, `op ${i}: realloc lost the contents`);
          heap.u8.fill(b.tag, q, q + n);
          b.p = q;
          b.n = n;
        }
      }
      if (i % 500 === 0) heap.check();
    }
    for (const b of live) heap.free(b.p);
    heap.check();
    heap.trim();
    assert.equal(heap.stats().heapBytes, 0, "everything freed and trimmed: nothing touched");
  });
});
