/**
 * Unit tests of the allocator's tiers, one behaviour at a time: tiny class selection and headers (both
 * class tables), mid classes, the large tier, running the page arena out of memory and recovering,
 * calloc, realloc, and the stats counters.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attachHeap, COALESCING_MAX_REQUEST, createHeap, FINE_MID_CLASSES, HeapError, FINE_TINY_CLASSES, MID_CLASSES, SEED_TINY_CLASSES, WIDE_TINY_CLASSES, type Heap, type HeapOptions } from "../lib";
import { headerMagic } from "../lib/alloc/header";
import { REALLOC_TINY_ROOM_STEP } from "../lib/alloc/heap";
import { fill, intact } from "./fixtures/block-bytes";

const KiB = 1024;
const MiB = 1024 * KiB;
const TINY_LIVE = 0xa0;
const MID_LIVE = 0xb0;
const LARGE_LIVE = 0xc0;
/** Largest mid request: a block of 52 KiB serves 52 KiB - 1 bytes. */
const MID_MAX = 52 * KiB - 1;
/** Largest tiny request of the fine classes (a 1032-byte block less its header). */
const TINY_MAX = FINE_TINY_CLASSES[FINE_TINY_CLASSES.length - 1] - 1;

const hex = (b: number) => `0x${b.toString(16).padStart(2, "0")}`;

/** Fills [p, p+n) with a pattern derived from `seed`, and checks it later. */
/** Asserts that blocks [ptr, ptr + span) of the list do not overlap and lie inside the heap. */
function assertDisjoint(heap: Heap, blocks: { ptr: number; span: number }[], what: string): void {
  const sorted = [...blocks].sort((a, b) => a.ptr - b.ptr);
  for (let i = 0; i < sorted.length; i++) {
    const { ptr, span } = sorted[i];
    assert.ok(ptr - 1 >= 0 && ptr + span <= heap.config.bytes, `${what}: block ${ptr}+${span} outside the heap`);
    if (i > 0) {
      const prev = sorted[i - 1];
      // Each block owns its header byte at ptr - 1 as well.
      assert.ok(prev.ptr + prev.span <= ptr - 1, `${what}: blocks ${prev.ptr} (+${prev.span}) and ${ptr} overlap`);
    }
  }
}

/** The tiny class a request of `size` bytes must get: the smallest S with size + 1 <= S. */
const expectedClass = (classes: readonly number[], size: number) => classes.findIndex((s) => size + 1 <= s);

const TABLES: { name: string; options: HeapOptions; classes: readonly number[] }[] = [
  { name: "seed classes (phase7)", options: { preset: "phase7" }, classes: SEED_TINY_CLASSES },
  { name: "wide classes (current)", options: { preset: "current" }, classes: WIDE_TINY_CLASSES },
  { name: "sixteen fine classes (current with midTier classes)", options: { preset: "current", midTier: "classes" }, classes: FINE_TINY_CLASSES },
  { name: "32 classes, every one past 16 wide", options: { preset: "current", tinyClasses: Array.from({ length: 32 }, (_, i) => 16 + 56 * i) }, classes: Array.from({ length: 32 }, (_, i) => 16 + 56 * i) },
  { name: "custom tinyClasses [16, 48, 80, 256]", options: { preset: "current", tinyClasses: [16, 48, 80, 256] }, classes: [16, 48, 80, 256] },
];

describe("tiny tier", () => {
  for (const { name, options, classes } of TABLES) {
    describe(name, () => {
      it("picks the class from size + 1 for every size below the last class's top request", () => {
        const heap = createHeap({ ...options, bytes: 16 * MiB });
        const last = classes[classes.length - 1];
        const wrong: string[] = [];
        for (let size = 0; size <= last - 2; size++) {
          const c = expectedClass(classes, size);
          const p = heap.malloc(size);
          assert.notEqual(p, 0, `malloc(${size}) returned 0`);
          const h = heap.u8[p - 1];
          if (h !== (TINY_LIVE | c) || heap.usableSize(p) !== classes[c] - 1 || p % 8 !== 1)
            wrong.push(`malloc(${size}) = ${p}: header ${hex(h)}, usableSize ${heap.usableSize(p)}; expected ${hex(TINY_LIVE | c)}, ${classes[c] - 1}, ptr % 8 = 1`);
          heap.free(p);
        }
        assert.deepEqual(wrong, []);
        heap.check();
      });

      it("a block of class S serves S - 1 bytes, also for the last class (size S_last - 1 stays tiny)", () => {
        const heap = createHeap({ ...options, bytes: 16 * MiB });
        const wrong: string[] = [];
        classes.forEach((s, c) => {
          const p = heap.malloc(s - 1);
          const h = heap.u8[p - 1];
          if (h !== (TINY_LIVE | c) || heap.usableSize(p) !== s - 1)
            wrong.push(`malloc(${s - 1}): header ${hex(h)} usableSize ${heap.usableSize(p)}, expected ${hex(TINY_LIVE | c)} (class ${c}, ${s}-byte block) usableSize ${s - 1}`);
          heap.free(p);
        });
        assert.deepEqual(wrong, []);
      });

      it("a request of exactly S bytes goes to the next class", () => {
        const heap = createHeap({ ...options, bytes: 16 * MiB });
        classes.slice(0, -1).forEach((s, c) => {
          const p = heap.malloc(s);
          assert.equal(heap.u8[p - 1], TINY_LIVE | (c + 1), `malloc(${s})`);
          heap.free(p);
        });
        // Past the last tiny class: the mid tier.
        const p = heap.malloc(classes[classes.length - 1]);
        assert.equal(heap.u8[p - 1] & 0xf0, MID_LIVE, `malloc(${classes[classes.length - 1]}) should be a mid block`);
        heap.free(p);
      });

      it("blocks of one class never overlap, stay inside the heap and keep their contents", () => {
        const heap = createHeap({ ...options, bytes: 16 * MiB });
        classes.forEach((s, c) => {
          const size = s - 2; // inside class c for every table (sizes are multiples of 8)
          const n = Math.min(1500, Math.floor((3 * 64 * KiB) / s)); // spans several slabs
          const ptrs: number[] = [];
          for (let i = 0; i < n; i++) {
            const p = heap.malloc(size);
            assert.equal(heap.u8[p - 1], TINY_LIVE | c);
            fill(heap, p, heap.usableSize(p), i);
            ptrs.push(p);
          }
          assert.equal(new Set(ptrs).size, n, `class ${c}: a pointer was handed out twice`);
          assertDisjoint(heap, ptrs.map((ptr) => ({ ptr, span: heap.usableSize(ptr) })), `class ${c}`);
          ptrs.forEach((p, i) => assert.ok(intact(heap, p, s - 1, i), `class ${c}: block ${p} lost its contents`));
          heap.check();
          for (const p of ptrs) heap.free(p);
        });
        heap.check();
      });

      it("freed blocks are reused", () => {
        const heap = createHeap({ ...options, bytes: 16 * MiB });
        for (const size of [0, classes[0], 100, classes[classes.length - 1] - 2]) {
          const first = Array.from({ length: 200 }, () => heap.malloc(size));
          const mapped = heap.stats().mappedBytes;
          for (const p of first) heap.free(p);
          const again = Array.from({ length: 200 }, () => heap.malloc(size));
          assert.deepEqual([...again].sort(), [...first].sort(), `malloc(${size}) after freeing 200 blocks of that size`);
          assert.equal(heap.stats().mappedBytes, mapped, "no new pages for reused blocks");
          for (const p of again) heap.free(p);
        }
        // Immediate reuse (LIFO front list).
        const p = heap.malloc(40);
        heap.free(p);
        assert.equal(heap.malloc(40), p);
        heap.check();
      });
    });
  }

  it("tinyMaxClass sends sizes above that class to the mid tier, and its top class still serves S - 1", () => {
    const heap = createHeap({ preset: "phase7", tinyMaxClass: 3, bytes: 16 * MiB }); // classes 8, 16, 32, 64
    const p62 = heap.malloc(62);
    assert.equal(heap.u8[p62 - 1], TINY_LIVE | 3);
    const p64 = heap.malloc(64);
    assert.equal(heap.u8[p64 - 1] & 0xf0, MID_LIVE, "malloc(64) is past the last tiny class");
    const p63 = heap.malloc(63);
    assert.equal(hex(heap.u8[p63 - 1]), hex(TINY_LIVE | 3), "malloc(63) fits the 64-byte class (63 + 1 header byte)");
  });
});

/** The seed's mid classes (historical presets) and this project's finer ones (preset current with the class mid tier). */
const MID_SETS = [
  { preset: "phase7", midTier: "classes", classes: MID_CLASSES, tinyTop: SEED_TINY_CLASSES[SEED_TINY_CLASSES.length - 1], align: 2048 },
  { preset: "current", midTier: "classes", classes: FINE_MID_CLASSES, tinyTop: FINE_TINY_CLASSES[FINE_TINY_CLASSES.length - 1], align: 512 },
] as const;

describe("mid tier", () => {
  for (const { preset, midTier, classes, tinyTop, align } of MID_SETS)
  it(`${preset}, midTier ${midTier}: classes 2 KiB .. 52 KiB: size + 1 picks the class, header 0xB0 | class, usableSize S - 1, ${align}-byte aligned blocks`, () => {
    const heap = createHeap({ bytes: 32 * MiB, preset, midTier });
    assert.deepEqual([...heap.config.midClasses], [...classes]);
    // The first size past every tiny class: it needs one byte more than the last class holds.
    let prevTop = tinyTop;
    classes.forEach((s, c) => {
      for (const size of [prevTop, prevTop + 1, Math.floor((prevTop + s) / 2), s - 2, s - 1]) {
        const p = heap.malloc(size);
        assert.notEqual(p, 0, `malloc(${size})`);
        assert.equal(hex(heap.u8[p - 1]), hex(MID_LIVE | c), `malloc(${size}) header`);
        assert.equal(heap.usableSize(p), s - 1, `usableSize of malloc(${size})`);
        assert.equal((p - 1) % align, 0, `malloc(${size}) = ${p}: a mid block starts on ${align} bytes`);
        heap.free(p);
      }
      prevTop = s;
    });
    assert.equal(classes[classes.length - 1], 52 * KiB);
    const top = heap.malloc(MID_MAX);
    assert.equal(heap.u8[top - 1], MID_LIVE | (classes.length - 1));
    heap.free(top);
    heap.check();
  });

  for (const { preset, midTier, classes } of MID_SETS)
  it(`${preset}, midTier ${midTier}: blocks of each class never overlap and keep their contents; freed blocks are reused`, () => {
    const heap = createHeap({ bytes: 32 * MiB, preset, midTier });
    classes.forEach((s, c) => {
      const ptrs = Array.from({ length: 20 }, (_, i) => {
        const p = heap.malloc(s - 1);
        assert.equal(heap.u8[p - 1], MID_LIVE | c);
        fill(heap, p, s - 1, i + c);
        return p;
      });
      assertDisjoint(heap, ptrs.map((ptr) => ({ ptr, span: s - 1 })), `mid class ${c}`);
      ptrs.forEach((p, i) => assert.ok(intact(heap, p, s - 1, i + c), `mid class ${c}: block ${p} lost its contents`));
      const mapped = heap.stats().mappedBytes;
      for (const p of ptrs) heap.free(p);
      // The thread's list and the class freelist hand the same memory out again: no new pages.
      const again = Array.from({ length: 20 }, () => heap.malloc(s - 1));
      assert.equal(heap.stats().mappedBytes, mapped, `mid class ${c}: freed blocks reused`);
      assertDisjoint(heap, again.map((ptr) => ({ ptr, span: s - 1 })), `mid class ${c} again`);
      heap.free(again[0]);
      assert.equal(heap.malloc(s - 1), again[0], "the last freed block comes back first");
      for (const p of again) heap.free(p);
    });
    heap.check();
  });
});

describe("large tier", () => {
  it("current: realloc grows a large block in place when the pages after it are free, else moves it (contents kept either way)", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    const p = heap.malloc(300 * KiB);
    fill(heap, p, 300 * KiB, 7);
    const touched = heap.stats().heapBytes;
    assert.equal(heap.realloc(p, 500 * KiB), p, "the pages after it are free: same address");
    assert.ok(intact(heap, p, 300 * KiB, 7));
    assert.ok(heap.usableSize(p) >= 500 * KiB);
    assert.equal(heap.stats().heapBytes - touched, 200 * KiB, "touched grows by what the request reaches");
    const wall = heap.malloc(300 * KiB); // the next run: no more room after p
    const q = heap.realloc(p, 800 * KiB);
    assert.notEqual(q, p, "the pages after it are taken: moved");
    assert.ok(intact(heap, q, 300 * KiB, 7));
    heap.free(q);
    heap.free(wall);
    heap.check();
    const seed = createHeap({ bytes: 16 * MiB, preset: "phase7" });
    const r = seed.malloc(300 * KiB);
    assert.notEqual(seed.realloc(r, 500 * KiB), r, "the historical presets move it, as the seed did");
  });

  for (const [preset, midTier, above] of [["phase7", "classes", MID_MAX], ["current", "coalescing", COALESCING_MAX_REQUEST]] as const)
  it(`${preset}, midTier ${midTier}: requests above ${above}: header 0xC0, 16-aligned user pointer, usableSize >= size`, () => {
    const heap = createHeap({ bytes: 16 * MiB, preset, coalescingMaxRequest: COALESCING_MAX_REQUEST });
    assert.equal(heap.config.midTier, midTier);
    const blocks = [above + 1, above + 16, 300_000, 1 * MiB, 3 * MiB + 5].map((size) => {
      const p = heap.malloc(size);
      assert.notEqual(p, 0, `malloc(${size})`);
      assert.equal(hex(heap.u8[p - 1]), hex(LARGE_LIVE), `malloc(${size}) header`);
      assert.equal(p % 16, 0, `malloc(${size}) = ${p} is not 16-aligned`);
      assert.ok(heap.usableSize(p) >= size, `usableSize(${p}) = ${heap.usableSize(p)} < ${size}`);
      assert.ok(heap.usableSize(p) < size + 64 * KiB, "a large block is at most one page bigger than asked");
      fill(heap, p, size, size);
      return { ptr: p, span: heap.usableSize(p), size };
    });
    assertDisjoint(heap, blocks, "large blocks");
    for (const b of blocks) assert.ok(intact(heap, b.ptr, b.size, b.size));
    for (const b of blocks) heap.free(b.ptr);
    heap.check();
  });

  it("pages go back on free and are reused: a big block allocated and freed 300 times in a 4 MiB heap", () => {
    const heap = createHeap({ bytes: 4 * MiB, coalescingMaxRequest: COALESCING_MAX_REQUEST });
    const keep = heap.malloc(100); // a live tiny block throughout
    fill(heap, keep, 100, 1);
    const mapped = heap.stats().mappedBytes;
    let first = 0;
    for (let i = 0; i < 300; i++) {
      const size = 1 * MiB + (i % 7) * 1000;
      const p = heap.malloc(size);
      assert.notEqual(p, 0, `round ${i}: malloc(${size}) ran out of memory`);
      if (i === 0) first = p;
      assert.equal(p, first, "the same pages are reused");
      heap.u8[p] = i & 255;
      heap.u8[p + size - 1] = i & 255;
      heap.free(p);
      assert.equal(heap.stats().mappedBytes, mapped, `round ${i}: pages returned`);
    }
    assert.ok(intact(heap, keep, 100, 1));
    heap.check();
    // The freed pages also serve other tiers.
    const big = heap.malloc(1900 * KiB);
    assert.notEqual(big, 0);
    heap.free(big);
    heap.free(keep);
    heap.check();
  });
});

describe("page arena exhaustion", () => {
  /** Fills the heap with blocks of `size` until malloc returns 0; checks contents; returns the blocks. */
  function fillUp(heap: Heap, size: number, cap = 200_000): number[] {
    const ptrs: number[] = [];
    for (;;) {
      const p = heap.malloc(size);
      if (p === 0) break;
      heap.u8[p] = ptrs.length & 255;
      heap.u8[p + size - 1] = (ptrs.length * 3) & 255;
      ptrs.push(p);
      assert.ok(ptrs.length < cap, `malloc(${size}) never ran out`);
    }
    ptrs.forEach((p, i) => {
      assert.equal(heap.u8[p], i & 255, `block ${p} overwritten`);
      assert.equal(heap.u8[p + size - 1], (i * 3) & 255, `block ${p} overwritten`);
    });
    assertDisjoint(heap, ptrs.map((ptr) => ({ ptr, span: size })), `malloc(${size}) until full`);
    return ptrs;
  }

  const TIERS = [
    { tier: "tiny", size: 100 },
    { tier: "mid", size: 3000 },
    { tier: "large", size: 200 * KiB },
  ];

  for (const { tier, size } of TIERS) {
    it(`${tier}: malloc(${size}) until it returns 0, free everything, check(), and the same number fits again`, () => {
      const heap = createHeap({ bytes: 4 * MiB });
      const first = fillUp(heap, size);
      assert.ok(first.length > 0);
      assert.ok(heap.stats().counters.oom > 0, "the failed malloc is counted as oom");
      heap.check();
      for (const p of first) heap.free(p);
      heap.check();
      const second = fillUp(heap, size);
      assert.equal(second.length, first.length, "after freeing everything the heap holds as many blocks as before");
      for (const p of second) heap.free(p);
      heap.check();
    });
  }

  for (const { tier, size } of TIERS) {
    it(`${tier}: after filling the heap and freeing everything (and trim()), the other tiers can use the memory`, () => {
      const heap = createHeap({ bytes: 4 * MiB });
      for (const p of fillUp(heap, size)) heap.free(p);
      heap.trim();
      heap.check();
      const got: string[] = [];
      for (const other of [16, 100, 1000, 3000, 20_000, 50_000, 1 * MiB]) {
        const p = heap.malloc(other);
        if (p === 0) got.push(`malloc(${other}) returned 0`);
        else heap.free(p);
      }
      assert.deepEqual(got, [], `after the ${tier} tier had the whole heap (mapped ${heap.stats().mappedBytes} of ${heap.config.bytes} bytes with nothing live)`);
      heap.check();
    });
  }

  it("all tiers in turn until every one returns 0; then free everything, check(), and allocate again", () => {
    const heap = createHeap({ bytes: 4 * MiB });
    const sizes = [24, 200, 900, 2500, 9000, 40_000, 120_000];
    const live: { ptr: number; size: number }[] = [];
    let failedInARow = 0;
    for (let i = 0; failedInARow < sizes.length; i++) {
      const size = sizes[i % sizes.length];
      const p = heap.malloc(size);
      if (p === 0) {
        failedInARow++;
        continue;
      }
      failedInARow = 0;
      fill(heap, p, Math.min(size, 64), live.length);
      live.push({ ptr: p, size });
      assert.ok(live.length < 100_000);
    }
    assertDisjoint(heap, live.map(({ ptr, size }) => ({ ptr, span: size })), "mixed fill");
    live.forEach(({ ptr, size }, i) => assert.ok(intact(heap, ptr, Math.min(size, 64), i)));
    heap.check();
    for (const { ptr } of live) heap.free(ptr);
    heap.check();
    for (const size of sizes) {
      const p = heap.malloc(size);
      assert.notEqual(p, 0, `malloc(${size}) after freeing everything`);
      heap.free(p);
    }
    heap.check();
  });
});

describe("calloc", () => {
  it("returns zeroed memory even where garbage was freed (tiny, mid, large)", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    for (const size of [1, 7, 100, 1000, 3000, 40_000, 100_000, 1 * MiB]) {
      const p = heap.malloc(size);
      heap.u8.fill(0xee, p, p + heap.usableSize(p));
      heap.free(p);
      for (const [count, each] of [[1, size], [size, 1]]) {
        const q = heap.calloc(count, each);
        assert.notEqual(q, 0, `calloc(${count}, ${each})`);
        for (let i = 0; i < size; i++) if (heap.u8[q + i] !== 0) assert.fail(`calloc(${count}, ${each}) = ${q}: byte ${i} is ${hex(heap.u8[q + i])}`);
        heap.u8.fill(0xee, q, q + size);
        heap.free(q);
      }
    }
    const q = heap.calloc(25, 40); // 1000 bytes as count * size
    assert.ok(heap.usableSize(q) >= 1000);
    assert.ok(heap.u8.subarray(q, q + 1000).every((b) => b === 0));
    heap.free(q);
    heap.check();
  });

  it("returns 0 when count * size is larger than the heap (no wrap-around), and the heap stays usable", () => {
    const heap = createHeap({ bytes: 4 * MiB });
    const keep = heap.malloc(500);
    fill(heap, keep, 500, 9);
    const oom0 = heap.stats().counters.oom;
    for (const [count, size] of [[2 ** 16, 2 ** 16], [2 ** 31, 2 ** 31], [2 ** 32 + 1, 2 ** 32 - 1], [3, 2 * MiB], [1, 4 * MiB + 1], [2 ** 53, 2], [2 ** 20, 5]]) {
      assert.equal(heap.calloc(count, size), 0, `calloc(${count}, ${size})`);
    }
    assert.ok(heap.stats().counters.oom > oom0);
    assert.ok(intact(heap, keep, 500, 9));
    heap.check();
    const p = heap.calloc(10, 10);
    assert.notEqual(p, 0);
    heap.free(p);
    heap.free(keep);
  });
});

describe("realloc", () => {
  it("growing across every tier keeps the contents", () => {
    const heap = createHeap({ bytes: 16 * MiB });
    let p = heap.malloc(10);
    let size = 10;
    fill(heap, p, size, 5);
    for (const next of [15, 100, 1000, 1023, 1500, 5000, 30_000, MID_MAX, MID_MAX + 1, 300_000, 2 * MiB]) {
      const q = heap.realloc(p, next);
      assert.notEqual(q, 0, `realloc(${p}, ${next})`);
      assert.ok(intact(heap, q, size, 5), `realloc(${p}, ${next}) = ${q} lost the first ${size} bytes`);
      assert.ok(heap.usableSize(q) >= next);
      if (q !== p) assert.throws(() => heap.usableSize(p), "the old block was freed");
      p = q;
      size = next;
      fill(heap, p, size, 5);
    }
    heap.free(p);
    heap.check();
  });

  it("a tiny block moved by realloc keeps every usable byte, into the next class or the coalescing tier", () => {
    // A tiny block moves by realloc's word loop, into any block that starts on a word; into a
    // coalescing block, by copyBytes. With tinySlabAfterBytes the old block may be a coalescing one.
    for (const options of [{}, { tinySlabAfterBytes: 4 * KiB }] as HeapOptions[]) {
      const heap = createHeap({ bytes: 16 * MiB, ...options });
      for (const block of heap.config.tinyClasses) {
        for (const next of [block, 3000, 70_000]) {
          const p = heap.malloc(block - 1);
          const usable = heap.usableSize(p);
          const tiny = headerMagic(heap.u8[p - 1], p, heap.mem.wideTinyHeaders) === TINY_LIVE;
          if (!options.tinySlabAfterBytes) assert.ok(tiny && usable === block - 1, `malloc(${block - 1}) takes a whole tiny block`);
          fill(heap, p, usable, block);
          const q = heap.realloc(p, Math.max(next, usable + 1));
          if (tiny) assert.notEqual(q, p, `realloc(malloc(${block - 1}), ${next}) moves a tiny block`);
          assert.ok(intact(heap, q, usable, block), `realloc(malloc(${block - 1}), ${next}) lost some of the ${usable} usable bytes`);
          assert.ok(heap.usableSize(q) >= next, `realloc(malloc(${block - 1}), ${next}): usable ${heap.usableSize(q)}`);
          heap.check();
          heap.free(q);
        }
      }
      heap.check();
    }
  });

  for (const shared of [false, true]) it(`a tiny move through the front lists leaves the heap as malloc, copy and free would, spills included (shared: ${shared})`, () => {
    // realloc takes a tiny-to-tiny move straight through the front lists when the new class has a
    // block (on a shared heap, through malloc and free); a twin heap does the same ops with malloc, a
    // byte copy and free instead. Every pointer and, at the end, every byte of the two buffers and
    // every front list must agree. Blocks grow within the tiny tier (its largest request is TINY_MAX).
    const options: HeapOptions = { preset: "current", bytes: 4 * MiB, frontCapacity: 8, shared };
    const [a, b] = [createHeap(options), createHeap(options)];
    const live: { p: number; size: number; seed: number }[] = [];
    let seed = 7;
    const next = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    for (let op = 0; op < 6000; op++) {
      const pick = next(10);
      if (pick < 4 || live.length === 0) {
        const size = 1 + next(300);
        const p = a.malloc(size);
        assert.equal(b.malloc(size), p, `op ${op}: malloc(${size})`);
        fill(a, p, size, op);
        fill(b, p, size, op);
        live.push({ p, size, seed: op });
        continue;
      }
      const k = next(live.length);
      const { p, size, seed: filled } = live[k];
      const usable = a.usableSize(p);
      if (pick < 7 || usable >= TINY_MAX) {
        a.free(p);
        b.free(p);
        live.splice(k, 1);
        continue;
      }
      const grown = usable + 1 + next(TINY_MAX - usable);
      const q = a.realloc(p, grown);
      // A block grown by at most REALLOC_TINY_ROOM_STEP bytes past its usable ones gets a block for twice them (reallocTinyRoom).
      const r = b.malloc(grown - usable <= REALLOC_TINY_ROOM_STEP ? Math.min(2 * grown, TINY_MAX) : grown);
      for (let i = 0; i < usable; i++) b.u8[r + i] = b.u8[p + i];
      b.free(p);
      assert.equal(q, r, `op ${op}: realloc(${p}, ${grown})`);
      assert.ok(intact(a, q, size, filled), `op ${op}: realloc(${p}, ${grown}) lost some of the ${size} bytes written`);
      live[k] = { p: q, size, seed: filled };
    }
    // Every byte but the heap's random id (H.HEAP_ID, the header's eighth word).
    const differ = a.u8.findIndex((byte, i) => byte !== b.u8[i] && (i < 28 || i >= 32));
    assert.equal(differ, -1, `the two heaps' buffers differ at byte ${differ}`);
    assert.deepEqual(a.counts, b.counts, "front list counts");
    assert.deepEqual(a.heads, b.heads, "front list heads");
    assert.ok(a.stats().counters.spills > 10, `the front lists spilled ${a.stats().counters.spills} times`);
    a.check();
  });

  for (const shared of [false, true]) it(`a tiny block asked for half its usable bytes up to all of them stays where it is, and the smallest class's for any size but 0, the heap untouched; one byte less than half moves to a smaller class (shared: ${shared})`, () => {
    // realloc returns such a block at once, on its fast path, and a block of the smallest class for
    // any size but 0; the buffer, the front lists and the counters must read as before the call, from
    // the owner's handle and (shared) another thread's.
    const owner = createHeap({ preset: "current", bytes: 16 * MiB, shared });
    const other = shared ? attachHeap(owner.handle()) : owner;
    for (const block of WIDE_TINY_CLASSES) {
      const usable = block - 1;
      const p = owner.malloc(usable);
      assert.equal(owner.usableSize(p), usable, `malloc(${usable}) takes the ${block}-byte class`);
      fill(owner, p, usable, block);
      for (const heap of [owner, other]) {
        const bytes = Uint8Array.from(heap.u8);
        const [heads, counts, counters] = [Int32Array.from(heap.heads), Int32Array.from(heap.counts), heap.stats().counters];
        // The smallest class has no smaller one to move to: it keeps any size but 0.
        const sizes = [usable, usable - 1, (usable >>> 1) + 1, usable >>> 1, ...(block === WIDE_TINY_CLASSES[0] ? [(usable >>> 1) - 1, 1] : [])];
        // None of them past the fast path: the method it leaves the rest to fails the test.
        const slowPath = heap as unknown as { reallocSlow?: () => never };
        slowPath.reallocSlow = () => assert.fail(`${block}-byte class: realloc left its fast path`);
        for (const size of sizes) {
          assert.equal(heap.realloc(p, size), p, `realloc(malloc(${usable}), ${size})`);
        }
        delete slowPath.reallocSlow;
        assert.equal(heap.u8.findIndex((byte, i) => byte !== bytes[i]), -1, `${block}-byte class: the buffer changed`);
        assert.deepEqual([heap.heads, heap.counts, heap.stats().counters], [heads, counts, counters], `${block}-byte class: front lists or counters changed`);
      }
      // Below half, the block moves to a smaller class; the smallest class has none, and stays.
      const less = (usable >>> 1) - 1;
      const q = other.realloc(p, less);
      assert.equal(q === p, block === WIDE_TINY_CLASSES[0], `realloc(malloc(${usable}), ${less}) moves unless the class is the smallest`);
      assert.ok(intact(owner, q, less, block), `realloc(malloc(${usable}), ${less}): contents kept`);
      assert.equal(other.realloc(q, 0), 0, `realloc(${q}, 0) frees the ${block}-byte class's block`);
      assert.throws(() => owner.usableSize(q), (e: unknown) => e instanceof HeapError && e.code !== "HEAP_CORRUPT", "no longer live");
    }
    owner.check();
  });

  it("current: a block asked for up to 23 bytes grows to 23 where it is, as in glibc's smallest chunk", () => {
    const heap = createHeap({ preset: "current", bytes: 16 * MiB });
    for (const from of [1, 4, 8, 15, 16]) {
      for (const to of [16, 20, 23]) {
        if (to < from) continue;
        const p = heap.malloc(from);
        fill(heap, p, from, from);
        assert.equal(heap.realloc(p, to), p, `realloc(malloc(${from}), ${to})`);
        assert.ok(intact(heap, p, from, from));
        heap.free(p);
      }
    }
    heap.check();
  });

  it("a tiny move of another thread's block sends it to that thread, not onto this thread's front list", () => {
    const owner = createHeap({ tinySlabAfterBytes: 0, preset: "current", bytes: 16 * MiB, shared: true });
    const other = attachHeap(owner.handle());
    const p = owner.malloc(16);
    fill(owner, p, 16, 3);
    other.free(other.malloc(24)); // the new class's front list holds a block
    const cls = owner.u8[p - 1] & 0x0f;
    const before = other.counts[cls];
    const q = other.realloc(p, 24);
    assert.ok(intact(other, q, 16, 3), "the contents moved");
    assert.equal(other.counts[cls], before, "the old block is not on the mover's front list");
    assert.equal(other.stats().counters.remote_free, 1, "it went to its owner as a remote free");
    other.free(q);
    owner.check();
  });

  it("without reallocShrinks (the historical presets), shrinking returns the same pointer with the contents kept", () => {
    for (const options of [{ reallocShrinks: false }, { preset: "phase7" }] as HeapOptions[]) {
      const heap = createHeap({ ...options, bytes: 16 * MiB });
      for (const [from, to] of [[100, 50], [100, 1], [3000, 2100], [40_000, 100], [500_000, 60_000], [500_000, 10]]) {
        const p = heap.malloc(from);
        fill(heap, p, from, 3);
        assert.equal(heap.realloc(p, to), p, `${JSON.stringify(options)}: realloc(malloc(${from}), ${to})`);
        assert.ok(intact(heap, p, to, 3));
        heap.free(p);
      }
      heap.check();
    }
  });

  it("reallocShrinks: below half its usable size, a tiny block moves to a smaller class, a coalescing block frees its tail, a large one gives its tail pages back; at half or more, or into a class no smaller, a block stays", () => {
    for (const options of [{ preset: "current" }, { preset: "current", build: "debug" }, { preset: "compact", reallocShrinks: true }] as HeapOptions[]) {
      const heap = createHeap({ ...options, bytes: 32 * MiB });
      const name = JSON.stringify(options);
      // [from, to, stays]: first a block of the smallest class (on a fresh heap, not one borrowed from the
      // next class), then a shrink from each tier into each smaller one, then blocks that stay.
      for (const [from, to, stays] of [[8, 3, true], [100, 50, false], [1000, 20, false], [3000, 1000, false], [40_000, 100, false],
        [500_000, 60_000, false], [12 * MiB, 1 * MiB, false], [12 * MiB, 100, false], [100, 64, true], [3000, 2100, true],
        [12 * MiB, 7 * MiB, true]] as const) {
        const p = heap.malloc(from);
        const usable = heap.usableSize(p);
        const tier = headerMagic(heap.u8[p - 1], p, heap.mem.wideTinyHeaders);
        const call = `${name}: realloc(malloc(${from}), ${to})`;
        fill(heap, p, from, 3);
        const q = heap.realloc(p, to);
        assert.notEqual(q, 0, call);
        assert.ok(intact(heap, q, to, 3), `${call} lost some of the first ${to} bytes`);
        assert.equal(q !== p, !stays && tier === TINY_LIVE, `${call}: only a tiny block moves`);
        if (stays) assert.equal(heap.usableSize(q), usable, call);
        else assert.ok(heap.usableSize(q) < usable && heap.usableSize(q) >= to, `${call}: usable ${usable} -> ${heap.usableSize(q)}`);
        if (q !== p) assert.throws(() => heap.usableSize(p), /free|not a live block/, `${call}: the old block was freed`);
        heap.check();
        heap.free(q);
      }
      heap.check();
    }
  });

  it("reallocShrinks: a coalescing block's freed tail merges with the free block after it and serves the next malloc", () => {
    // No stash: the middle block's free reaches the tier at once, so the tail merges with it in the shrink.
    const heap = createHeap({ preset: "current", bytes: 16 * MiB, coalescingStashBlocks: 0 });
    const [a, b, c] = [heap.malloc(40_000), heap.malloc(40_000), heap.malloc(40_000)];
    heap.free(b);
    fill(heap, a, 40_000, 8);
    assert.equal(heap.realloc(a, 2000), a);
    assert.ok(intact(heap, a, 2000, 8));
    const d = heap.malloc(70_000);
    assert.ok(d > a && d + 70_000 <= c, `malloc(70000) = ${d}: between the shrunk block (${a}) and the one after the freed tail (${c})`);
    heap.check();
    for (const p of [a, c, d]) heap.free(p);
    heap.check();
  });

  it("reallocShrinks: a large block shrunk in place gives back the pages past its new size, touched and in use", () => {
    const heap = createHeap({ preset: "current", bytes: 64 * MiB });
    const p = heap.malloc(20 * MiB);
    fill(heap, p, 20 * MiB, 6);
    const before = heap.stats();
    assert.equal(heap.realloc(p, 3 * MiB), p);
    const after = heap.stats();
    // Touched before: 20 MiB and the 4 KiB unit the 16-byte prefix pushes into; after: the 49 pages
    // the block keeps (3 MiB and its prefix), each written whole.
    assert.equal(before.heapBytes - after.heapBytes, 20 * MiB + 4 * KiB - (3 * MiB + 64 * KiB), "the pages past the new size are no longer touched");
    assert.equal(heap.usableSize(p), 3 * MiB + 64 * KiB - 16, "the block keeps the pages its 3 MiB and header reach");
    assert.ok(intact(heap, p, 3 * MiB, 6));
    const q = heap.malloc(16 * MiB);
    assert.equal(q, p + 3 * MiB + 64 * KiB, "the next large block takes the pages given back, right after the block");
    heap.check();
    heap.free(q);
    heap.free(p);
    heap.check();
  });

  it("reallocShrinks: on in current only, off on header-free heaps unless asked for, and refused there; an aligned block stays", () => {
    assert.equal(createHeap({ preset: "current", bytes: 16 * MiB }).config.reallocShrinks, true);
    assert.equal(createHeap({ preset: "compact", bytes: 16 * MiB }).config.reallocShrinks, false);
    assert.equal(createHeap({ preset: "phase7", bytes: 16 * MiB }).config.reallocShrinks, false);
    assert.equal(createHeap({ preset: "current", bytes: 16 * MiB, align: 16 }).config.reallocShrinks, false);
    assert.throws(() => createHeap({ preset: "current", bytes: 16 * MiB, align: 8, reallocShrinks: true }), {
      code: "INVALID_OPTION",
      message: /reallocShrinks=true is invalid: align 8: a header-free heap cannot tell an alignedAlloc block, which a move would misalign/,
    });
    const heap = createHeap({ preset: "current", bytes: 16 * MiB });
    for (const [alignment, size] of [[64, 1000], [4096, 40_000]]) {
      const p = heap.alignedAlloc(alignment, size);
      fill(heap, p, size, 2);
      assert.equal(heap.realloc(p, 10), p, `realloc(alignedAlloc(${alignment}, ${size}), 10) keeps the block and its alignment`);
      assert.ok(intact(heap, p, 10, 2));
      heap.free(p);
    }
    heap.check();
  });

  it("reallocShrinks: where malloc borrows a block of the next class up, a tiny block moves into one no larger, contents kept", () => {
    const heap = createHeap({ preset: "current", bytes: 16 * MiB });
    // The 24-byte class has no block; the 32-byte class has free ones, which malloc(14) borrows.
    assert.deepEqual([...heap.blockSize.slice(0, 2)], [24, 32]);
    const blocks = Array.from({ length: 3000 }, () => heap.malloc(30));
    const keep = heap.malloc(30);
    for (const p of blocks.slice(0, 2500)) heap.free(p);
    fill(heap, keep, 30, 5);
    const q = heap.realloc(keep, 14);
    assert.notEqual(q, 0);
    assert.ok(heap.usableSize(q) <= 31, `realloc(32-byte block, 14): usable ${heap.usableSize(q)}`);
    assert.ok(intact(heap, q, 14, 5));
    if (q !== keep) assert.throws(() => heap.usableSize(keep), /free|not a live block/, "the old block was freed");
    for (const p of [q, ...blocks.slice(2500)]) heap.free(p);
    heap.check();
  });

  it("reallocShrinks: a tiny block with no smaller block to be had stays where it is", () => {
    const heap = createHeap({ tinySlabAfterBytes: 0, preset: "current", bytes: 8 * MiB });
    const p = heap.malloc(500);
    const usable = heap.usableSize(p);
    fill(heap, p, 500, 9);
    // Every slab and page taken by 1000-byte blocks: no class but theirs has a block or a slab to give.
    const rest: number[] = [];
    for (let q = heap.malloc(1000); q !== 0; q = heap.malloc(1000)) rest.push(q);
    assert.equal(heap.malloc(20), 0, "the heap has no 24-byte block to give");
    assert.equal(heap.realloc(p, 20), p, "realloc(500-byte block, 20) with no block to move to");
    assert.equal(heap.usableSize(p), usable);
    assert.ok(intact(heap, p, 500, 9), "every byte kept");
    for (const q of [p, ...rest]) heap.free(q);
    heap.check();
  });

  it("reallocShrinks: shrinking another thread's block sends the old block to that thread", () => {
    const owner = createHeap({ tinySlabAfterBytes: 0, preset: "current", bytes: 16 * MiB, shared: true });
    const other = attachHeap(owner.handle());
    const p = owner.malloc(500);
    fill(owner, p, 500, 4);
    const q = other.realloc(p, 40);
    assert.notEqual(q, p);
    assert.ok(intact(other, q, 40, 4), "the first 40 bytes moved");
    assert.equal(other.stats().counters.remote_free, 1, "the old block went to its owner as a remote free");
    other.free(q);
    owner.check();
  });

  it("realloc(0, n) is malloc(n)", () => {
    const heap = createHeap({ bytes: 16 * MiB, coalescingMaxRequest: COALESCING_MAX_REQUEST });
    for (const [n, magic] of [[0, TINY_LIVE], [50, TINY_LIVE], [5000, MID_LIVE], [100_000, MID_LIVE], [300_000, LARGE_LIVE]]) {
      const p = heap.realloc(0, n);
      assert.notEqual(p, 0);
      assert.equal(heap.u8[p - 1] & 0xf0, magic, `realloc(0, ${n})`);
      assert.ok(heap.usableSize(p) >= n);
      heap.free(p);
    }
    heap.check();
  });

  it("realloc(p, 0) frees p and returns 0", () => {
    const heap = createHeap({ bytes: 16 * MiB, fastStats: true });
    for (const n of [50, 5000, 100_000]) {
      const p = heap.malloc(n);
      const before = heap.stats().routes;
      assert.equal(heap.realloc(p, 0), 0);
      const after = heap.stats().routes;
      const frees = (r: typeof before) => r.header_fast! + r.ss_hit + r.mid! + r.large;
      assert.equal(frees(after), frees(before) + 1, `realloc(malloc(${n}), 0) counts one free`);
      assert.throws(() => heap.free(p), { code: "DOUBLE_FREE" });
      assert.notEqual(heap.malloc(n), 0);
    }
    heap.check();
  });

  it("a grow that runs out of memory returns 0 and leaves the old block valid", () => {
    const heap = createHeap({ bytes: 4 * MiB });
    for (const n of [100, 3000, 200_000]) {
      const p = heap.malloc(n);
      fill(heap, p, n, 11);
      const usable = heap.usableSize(p);
      assert.equal(heap.realloc(p, 8 * MiB), 0);
      assert.equal(heap.usableSize(p), usable);
      assert.ok(intact(heap, p, n, 11));
      heap.free(p);
    }
    heap.check();
  });
});

describe("stats", () => {
  it("peakHeapBytes grows with live data, never falls, and is never below heapBytes", () => {
    const heap = createHeap({ bytes: 32 * MiB });
    let s = heap.stats();
    assert.equal(s.heapBytes, 0);
    assert.equal(s.peakHeapBytes, 0);
    const live: number[] = [];
    let lastPeak = 0;
    for (let i = 0; i < 12; i++) {
      const p = heap.malloc(512 * KiB);
      heap.u8.fill(1, p, p + 512 * KiB);
      for (let k = 0; k < 500; k++) live.push(heap.malloc(200));
      live.push(p);
      s = heap.stats();
      assert.ok(s.heapBytes > (i + 1) * 512 * KiB, `heapBytes ${s.heapBytes} after ${i + 1} x 512 KiB`);
      assert.ok(s.peakHeapBytes >= s.heapBytes);
      assert.ok(s.peakHeapBytes > lastPeak, "peak grows with live data");
      assert.ok(s.peakMappedBytes >= s.mappedBytes && s.mappedBytes >= s.heapBytes);
      lastPeak = s.peakHeapBytes;
    }
    for (const p of live) heap.free(p);
    heap.trim();
    s = heap.stats();
    assert.ok(s.heapBytes < lastPeak / 2, `heapBytes ${s.heapBytes} after freeing everything`);
    assert.equal(s.peakHeapBytes, lastPeak, "the peak stays");
    assert.ok(s.peakHeapBytes >= s.heapBytes);
  });

  it("counts SuperSlabs: none at first, one for the first tiny block, more as slabs fill, back after frees", () => {
    const heap = createHeap({ tinySlabAfterBytes: 0, bytes: 16 * MiB });
    assert.equal(heap.stats().superslabs, 0);
    heap.free(heap.malloc(3000)); // mid and large need no SuperSlab
    heap.free(heap.malloc(100_000));
    assert.equal(heap.stats().superslabs, 0);
    const ptrs = [heap.malloc(8)];
    assert.equal(heap.stats().superslabs, 1);
    // 2 MiB SuperSlab = 32 slabs of 64 KiB; 1000-byte requests use 1032-byte blocks, 63 to a slab.
    const perSlab = Math.floor(64 * KiB / 1032);
    while (heap.stats().superslabs < 2) {
      ptrs.push(heap.malloc(1000));
      assert.ok(ptrs.length < 32 * perSlab + perSlab);
    }
    assert.ok(ptrs.length >= 31 * perSlab, `a second SuperSlab after ${ptrs.length} blocks`);
    const s = heap.stats();
    assert.equal(s.peakSuperslabs, 2);
    for (const p of ptrs) heap.free(p);
    heap.trim();
    heap.check();
    assert.ok(heap.stats().superslabs <= 1, "empty SuperSlabs go back (the last one may stay)");
    assert.equal(heap.stats().peakSuperslabs, 2);
  });

  it("route counters count each free once, by tier and route", () => {
    for (const [preset, tinyRoute] of [["current", "header_fast"], ["phase7-ss-lookup", "ss_hit"], ["aligned", "page_fast"]] as const) {
      const heap = createHeap({ preset, bytes: 16 * MiB, fastStats: true, coalescingMaxRequest: COALESCING_MAX_REQUEST });
      const tiny = Array.from({ length: 300 }, (_, i) => heap.malloc(i % 1000));
      const mid = Array.from({ length: 30 }, (_, i) => heap.malloc(2000 + i * 1500));
      const large = Array.from({ length: 5 }, (_, i) => heap.malloc(300_000 + i * 100_000));
      for (const p of [...tiny, ...mid, ...large]) heap.free(p);
      const r = heap.stats().routes;
      const expected = { header_fast: 0, page_fast: 0, ss_hit: 0, mid: 30, large: 5, remote: 0, [tinyRoute]: 300 };
      assert.deepEqual(r, expected, `${preset}: tiny frees go ${tinyRoute}`);
      heap.check();
    }
  });

  it("counts the fast routes only when asked (fastStats) or in the debug build", () => {
    const run = (options: HeapOptions) => {
      const heap = createHeap({ bytes: 16 * MiB, coalescingMaxRequest: COALESCING_MAX_REQUEST, ...options });
      const ptrs = [...Array.from({ length: 50 }, (_, i) => heap.malloc(i * 10)), heap.malloc(3000), heap.malloc(300_000)];
      for (const p of ptrs) heap.free(p);
      return heap.stats().routes;
    };
    assert.deepEqual(run({}), { header_fast: null, page_fast: null, ss_hit: 0, mid: null, large: 1, remote: 0 }, "release: fast routes uncounted");
    assert.deepEqual(run({ fastStats: true }), { header_fast: 50, page_fast: 0, ss_hit: 0, mid: 1, large: 1, remote: 0 });
    assert.deepEqual(run({ build: "debug" }), { header_fast: 50, page_fast: 0, ss_hit: 0, mid: 1, large: 1, remote: 0 });
    assert.deepEqual(run({ statsAtExit: true, log: () => {} }), { header_fast: 50, page_fast: 0, ss_hit: 0, mid: 1, large: 1, remote: 0 }, "stats at exit count them");
    assert.deepEqual(run({ preset: "aligned" }), { header_fast: null, page_fast: null, ss_hit: 0, mid: null, large: 1, remote: 0 }, "aligned, release: fast routes uncounted");
    assert.deepEqual(run({ preset: "aligned", fastStats: true }), { header_fast: 0, page_fast: 50, ss_hit: 0, mid: 1, large: 1, remote: 0 });
  });
});

describe("occupancy (the heap map)", () => {
  it("lists every slab of every live SuperSlab with its class and fill", () => {
    const heap = createHeap({ tinySlabAfterBytes: 0, bytes: 16 * 1024 * 1024 });
    const ptrs = Array.from({ length: 100 }, () => heap.malloc(100));
    const cells = heap.occupancy();
    assert.equal(cells.length, heap.stats().superslabs * 32);
    const active = cells.filter((c) => c.state === "active");
    assert.equal(active.length, 1);
    assert.equal(active[0].blockSize, 128);
    assert.ok(active[0].used >= 100 && active[0].used <= active[0].capacity);
    assert.equal(active[0].capacity, 65536 / 128);
    for (const p of ptrs) heap.free(p);
    heap.trim();
    assert.ok(heap.occupancy().every((c) => c.state !== "active"));
  });
});
