/**
 * Every way a heap operation can be refused, with its HeapError code and message text, in the release
 * and the debug build. After each refusal the heap must be exactly as before: heap.check() passes and
 * a set of live "sentinel" blocks in every tier still holds its bytes. Also the debug build's route
 * trace, invalid options, and a detached handle.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { attachHeap, COALESCING_MAX_REQUEST, createHeap, HeapError, PRESET_NAMES, type BuildMode, type Heap, type HeapErrorCode, type HeapOptions } from "../lib";
import { linkWord, TINY_CLASS_MASK } from "../lib/alloc/header";

const KiB = 1024;
const MiB = 1024 * KiB;
const BUILDS: BuildMode[] = ["release", "debug"];

/** Live blocks in every tier, each filled with its own pattern. */
class Sentinels {
  private readonly blocks: { ptr: number; size: number; seed: number }[] = [];

  constructor(private readonly heap: Heap) {
    [8, 100, 1000, 3000, 40_000, 100_000].forEach((size, i) => {
      const ptr = heap.malloc(size);
      assert.notEqual(ptr, 0);
      for (let k = 0; k < size; k++) heap.u8[ptr + k] = (i * 31 + k) & 255;
      this.blocks.push({ ptr, size, seed: i * 31 });
    });
  }

  assertIntact(after: string): void {
    for (const { ptr, size, seed } of this.blocks) {
      for (let k = 0; k < size; k++) {
        if (this.heap.u8[ptr + k] !== ((seed + k) & 255)) assert.fail(`after ${after}: live block ${ptr} (${size} bytes) changed at byte ${k}`);
      }
      assert.ok(this.heap.usableSize(ptr) >= size, `after ${after}: live block ${ptr} no longer live`);
    }
  }
}

/** A heap with sentinels, in a small buffer. */
function setup(build: BuildMode, options: HeapOptions = {}): { heap: Heap; sentinels: Sentinels } {
  const heap = createHeap({ bytes: 4 * MiB, build, ...options });
  return { heap, sentinels: new Sentinels(heap) };
}

/**
 * Asserts that `fn` throws a HeapError with `code` and a message matching `message`, carrying `ptr`
 * when given; then that the heap is unharmed.
 */
function refused(
  heap: Heap, sentinels: Sentinels | null, what: string, fn: () => unknown,
  code: HeapErrorCode, message?: RegExp, ptr?: number, checkAfter = true,
): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  assert.ok(thrown !== undefined, `${what}: was not refused`);
  assert.ok(thrown instanceof HeapError, `${what}: threw ${String(thrown)}, not a HeapError`);
  assert.equal(thrown.code, code, `${what}: code ${thrown.code} (${thrown.message}), expected ${code}`);
  assert.ok(thrown.message.startsWith(`${code}: `), `${what}: message should start with the code: ${thrown.message}`);
  if (message) assert.match(thrown.message, message, `${what}: message`);
  if (ptr !== undefined) assert.equal(thrown.ptr, ptr, `${what}: error.ptr`);
  if (checkAfter) heap.check();
  sentinels?.assertIntact(what);
}

/** Whether the block of user pointer `p` sits in one of this thread's tiny front lists (white box: walks them). */
function inFrontList(heap: Heap, p: number): boolean {
  for (const list of heap.frontLists()) {
    for (let cls = 0; cls < list.heads.length; cls++) {
      for (let b = list.heads[cls], n = 0; b !== 0 && n <= list.counts[cls]; b = heap.i32[linkWord(b)], n++) if (b === p - 1) return true;
    }
  }
  return false;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

for (const build of BUILDS) {
  describe(`bad input, ${build} build`, () => {
    it("malloc of a size that is not a non-negative integer: INVALID_SIZE", () => {
      const { heap, sentinels } = setup(build);
      for (const [label, size] of [["-1", -1], ["1.5", 1.5], ["NaN", NaN], ["Infinity", Infinity], ["-0.5", -0.5], ['"8"', "8"], ["undefined", undefined], ["null", null], ["-65536", -65536]] as const) {
        refused(heap, sentinels, `malloc(${label})`, () => heap.malloc(size as number), "INVALID_SIZE", /malloc\(.*\): size must be a non-negative integer/);
      }
    });

    it("a size given as a string is refused with a message that shows it is not a number", () => {
      const { heap, sentinels } = setup(build);
      // "malloc(8): size must be a non-negative integer" would leave the caller puzzled: 8 is one.
      refused(heap, sentinels, 'malloc("8")', () => heap.malloc("8" as unknown as number), "INVALID_SIZE", /malloc\("8"\)|string/);
      refused(heap, sentinels, 'calloc("2", 4)', () => heap.calloc("2" as unknown as number, 4), "INVALID_SIZE", /calloc\("2", 4\)|string/);
      const p = heap.malloc(10);
      refused(heap, sentinels, 'realloc(p, "10")', () => heap.realloc(p, "10" as unknown as number), "INVALID_SIZE", /"10"\)|string/);
      // The pointer as a string names a live block's header: realloc must still refuse it, not read the header.
      refused(heap, sentinels, "realloc(String(p), 5)", () => heap.realloc(String(p) as unknown as number, 5), "INVALID_POINTER", /not an offset/);
      heap.free(p);
    });

    it("malloc larger than the heap returns 0 (counted as oom), and the heap stays usable", () => {
      const { heap, sentinels } = setup(build);
      const oom = heap.stats().counters.oom;
      for (const size of [heap.config.bytes - 100, heap.config.bytes, heap.config.bytes + 1, 2 ** 31, 2 ** 32 + 8, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
        assert.equal(heap.malloc(size), 0, `malloc(${size})`);
      }
      assert.equal(heap.stats().counters.oom, oom + 7);
      heap.check();
      sentinels.assertIntact("malloc larger than the heap");
      for (const size of [10, 5000, 200_000]) heap.free(heap.malloc(size));
      heap.check();
    });

    it("a size given as a BigInt (or holding one) is refused with INVALID_SIZE showing it, not a TypeError from the message", () => {
      const { heap, sentinels } = setup(build);
      refused(heap, sentinels, "calloc(2n, 4)", () => heap.calloc(2n as unknown as number, 4), "INVALID_SIZE", /calloc\(2n, 4\)/);
      refused(heap, sentinels, "alignedAlloc(16, 5n)", () => heap.alignedAlloc(16, 5n as unknown as number), "INVALID_SIZE", /alignedAlloc\(16, 5n\)/);
      const p = heap.malloc(10);
      refused(heap, sentinels, "realloc(p, 7n)", () => heap.realloc(p, 7n as unknown as number), "INVALID_SIZE", /, 7n\): size must be a non-negative integer/);
      refused(heap, sentinels, "realloc(p, [7n])", () => heap.realloc(p, [7n] as unknown as number), "INVALID_SIZE", /, \["7n"\]\): size must be a non-negative integer/);
      heap.free(p);
    });

    it("calloc with a bad count or size: INVALID_SIZE naming which", () => {
      const { heap, sentinels } = setup(build);
      const cases: [number, number, string][] = [
        [-1, 1, "count"], [1, -1, "size"], [1.5, 2, "count"], [2, 1.5, "size"], [NaN, 1, "count"], [1, NaN, "size"],
        ["2" as unknown as number, 4, "count"], [4, Infinity, "size"],
      ];
      for (const [count, size, which] of cases) {
        refused(heap, sentinels, `calloc(${String(count)}, ${String(size)})`, () => heap.calloc(count, size), "INVALID_SIZE",
          new RegExp(`calloc\\(.*\\): ${which} must be a non-negative integer`));
      }
    });

    it("realloc with a bad size: INVALID_SIZE, and the block stays live and intact", () => {
      const { heap, sentinels } = setup(build);
      for (const n of [50, 3000, 100_000]) {
        const p = heap.malloc(n);
        heap.u8.fill(0x3c, p, p + n);
        const usable = heap.usableSize(p);
        for (const [label, size] of [["-1", -1], ["2.5", 2.5], ["NaN", NaN], ['"10"', "10"]] as const) {
          refused(heap, sentinels, `realloc(${p}, ${label})`, () => heap.realloc(p, size as number), "INVALID_SIZE",
            new RegExp(`realloc\\(ptr ${p} .*\\): size must be a non-negative integer`));
          assert.equal(heap.usableSize(p), usable);
          assert.ok(heap.u8.subarray(p, p + n).every((b) => b === 0x3c));
        }
        heap.free(p);
      }
      refused(heap, sentinels, "realloc(0, -1)", () => heap.realloc(0, -1), "INVALID_SIZE", /-1\): size must be a non-negative integer/);
    });

    it("free(0) does nothing", () => {
      const { heap, sentinels } = setup(build);
      heap.free(0);
      heap.check();
      sentinels.assertIntact("free(0)");
    });

    it("free of a pointer outside the heap: INVALID_POINTER naming the pointer", () => {
      const { heap, sentinels } = setup(build);
      const bytes = heap.config.bytes;
      for (const ptr of [-1, -16, bytes, bytes + 1, bytes + 4096 + 1, 2 ** 32 + 1, 2 ** 40, 1.5, NaN, Infinity]) {
        refused(heap, sentinels, `free(${ptr})`, () => heap.free(ptr), "INVALID_POINTER", new RegExp(`free\\(ptr ${esc(String(ptr))}`), ptr);
        refused(heap, sentinels, `usableSize(${ptr})`, () => heap.usableSize(ptr), "INVALID_POINTER", /usableSize\(ptr/, ptr);
      }
      if (build === "release") {
        refused(heap, sentinels, "free(bytes)", () => heap.free(bytes), "INVALID_POINTER", /not an offset/);
      }
    });

    it("free of a pointer into the heap's metadata: INVALID_POINTER", () => {
      const { heap, sentinels } = setup(build, { coalescingMaxRequest: COALESCING_MAX_REQUEST }); // large blocks from 256 KiB
      // A 6-page large block after the sentinels' 8 pages leaves a byte of the arena bitmap (1 = free page)
      // at 0x80: 7 pages used, then a free one. That byte looks like the header of a free tiny block.
      const big = heap.malloc(6 * 64 * KiB - 16);
      const { bitmapAt, registryAt, metaPages } = heap.mem.layout;
      assert.equal(metaPages, 1);
      const looksFree = (b: number) => [0x80, 0x90, 0xd0].includes(b & 0xf0);
      let fake = bitmapAt;
      while (fake < bitmapAt + 8 && !looksFree(heap.u8[fake])) fake++;
      assert.ok(looksFree(heap.u8[fake]), "a bitmap byte that looks like a free block's header");
      for (const ptr of [1, 8, 9, 100, 4097, registryAt + 1, fake + 1, 64 * KiB - 1]) {
        refused(heap, sentinels, `free(${ptr}) into the metadata`, () => heap.free(ptr), "INVALID_POINTER",
          build === "release" ? /points into the heap's metadata, not a block/ : new RegExp(`free\\(ptr ${ptr} `), ptr);
      }
      heap.free(big);
    });

    it("free of misaligned and interior pointers into tiny, mid and large blocks: INVALID_POINTER", () => {
      const { heap, sentinels } = setup(build);
      for (const [size, offsets] of [
        [60, [1, 2, 7, 8, 9, 16, 32, 62]],
        [500, [1, 8, 64, 256, 510]],
        [3000, [1, 2, 100, 2047, 2048, 2049, 4094]],
        [40_000, [1, 2048, 4096, 20_000, 40_959]],
        [100_000, [1, 15, 16, 17, 4096, 65_536, 99_999]],
      ] as const) {
        const p = heap.malloc(size);
        heap.u8.fill(0x11, p, p + heap.usableSize(p)); // user bytes that look like no header
        for (const off of offsets) {
          const q = p + off;
          refused(heap, sentinels, `free(${p} + ${off}) of a ${size}-byte block`, () => heap.free(q), "INVALID_POINTER", new RegExp(`free\\(ptr ${q} `), q);
          refused(heap, sentinels, `usableSize(${p} + ${off})`, () => heap.usableSize(q), "INVALID_POINTER", undefined, q);
          refused(heap, sentinels, `realloc(${p} + ${off}, 10)`, () => heap.realloc(q, 10), "INVALID_POINTER", undefined, q);
        }
        // The block itself is unharmed and frees normally.
        assert.ok(heap.u8.subarray(p, p + size).every((b) => b === 0x11));
        heap.free(p);
        heap.check();
      }
      // A pointer one byte before a large block (its 16-byte prefix).
      const l = heap.malloc(100_000);
      refused(heap, sentinels, "free(large - 1)", () => heap.free(l - 1), "INVALID_POINTER");
      refused(heap, sentinels, "free(large - 15)", () => heap.free(l - 15), "INVALID_POINTER");
      heap.free(l);
    });

    it("free of a never-allocated address inside the heap: INVALID_POINTER", () => {
      const { heap, sentinels } = setup(build, { tinySlabAfterBytes: 0 }); // a slab from the first block
      // A page nobody uses: a large block's pages after it was freed, away from its old header.
      const l = heap.malloc(200_000);
      heap.free(l);
      for (const ptr of [l + 4096, l + 4096 + 1, l + 65_536 + 17]) {
        refused(heap, sentinels, `free(${ptr}) in a free page`, () => heap.free(ptr), "INVALID_POINTER", new RegExp(`free\\(ptr ${ptr} `), ptr);
      }
      // A block start in an active slab that was never carved (nothing was ever handed out there).
      const t = heap.malloc(100); // 128-byte blocks
      const slab = (t - 1) & ~0xffff;
      const never = slab + 128 * 400 + 1;
      assert.equal(heap.u8[never - 1], 0);
      refused(heap, sentinels, `free(${never}): uncarved block of a live slab`, () => heap.free(never), "INVALID_POINTER", new RegExp(`free\\(ptr ${never} `), never);
      heap.free(t);
    });

    it("double free right away (tiny, mid, large): DOUBLE_FREE", () => {
      const { heap, sentinels } = setup(build);
      for (const size of [0, 60, 1000, 3000, 50_000, 100_000]) {
        const p = heap.malloc(size);
        heap.free(p);
        refused(heap, sentinels, `second free of malloc(${size})`, () => heap.free(p), "DOUBLE_FREE",
          new RegExp(`free\\(ptr ${p} .*(already freed|not live)`), p);
        // The caches did not take the block twice: the next two blocks of that size differ.
        const a = heap.malloc(size);
        const b = heap.malloc(size);
        assert.notEqual(a, b, `malloc(${size}) handed out one block twice after a refused double free`);
        heap.free(a);
        heap.free(b);
      }
    });

    it("current: double free after the spill of a full front list took the block: DOUBLE_FREE", () => {
      const { heap, sentinels } = setup(build, { preset: "current" });
      const blocks = Array.from({ length: 3000 }, () => heap.malloc(50));
      const p = blocks[0];
      // p is freed onto a full front list (1024 blocks): it is the newest, so the spill takes it.
      for (const q of blocks.slice(1, 1025)) heap.free(q);
      heap.free(p);
      for (const q of blocks.slice(1025)) heap.free(q);
      assert.ok(!inFrontList(heap, p), "p went back to its slab");
      refused(heap, sentinels, "double free after spills", () => heap.free(p), "DOUBLE_FREE", new RegExp(`free\\(ptr ${p} .*(already freed|not live)`), p);
      const again = Array.from({ length: 3000 }, () => heap.malloc(50));
      assert.equal(new Set(again).size, 3000, "nothing handed out twice");
      for (const q of again) heap.free(q);
      heap.check();
    });

    for (const preset of PRESET_NAMES) {
      it(`${preset}: double free after other frees pushed the block out of the front caches, and after trim(): DOUBLE_FREE`, () => {
        // Front caches of one block. A spill takes the newest blocks, so p is freed onto a full cache
        // (it is the newest when that overflows) and the frees after it push it down to its slab.
        const { heap, sentinels } = setup(build, { preset, frontCapacity: 1, sfcCapacity: 1, sfcRefillCount: 1 });
        const blocks = Array.from({ length: 300 }, () => heap.malloc(50));
        const p = blocks[0];
        heap.free(blocks[1]);
        heap.free(p);
        for (const q of blocks.slice(2, 200)) heap.free(q);
        assert.ok(!inFrontList(heap, p), "p went back to its slab");
        refused(heap, sentinels, "double free after spills", () => heap.free(p), "DOUBLE_FREE", new RegExp(`free\\(ptr ${p} `), p);
        for (const q of blocks.slice(200)) heap.free(q);
        heap.trim(); // every cache back to the slabs, empty slabs back to the pool
        refused(heap, sentinels, "double free after trim()", () => heap.free(p), "DOUBLE_FREE", new RegExp(`free\\(ptr ${p} `), p);
        refused(heap, sentinels, "double free of another block after trim()", () => heap.free(blocks[250]), "DOUBLE_FREE", undefined, blocks[250]);
        const again = Array.from({ length: 300 }, () => heap.malloc(50));
        assert.equal(new Set(again).size, 300, "nothing handed out twice");
        for (const q of again) heap.free(q);
        heap.check();
      });
    }

    it("a header byte overwritten with 0x00 or garbage: CORRUPT_HEADER (tiny, mid, large)", () => {
      const { heap, sentinels } = setup(build);
      const wrong: string[] = [];
      for (const size of [60, 1000, 3000, 40_000, 100_000]) {
        for (const junk of [0x00, 0x5a, 0xff]) {
          const p = heap.malloc(size);
          const h = heap.u8[p - 1];
          heap.u8[p - 1] = junk; // a buffer underrun by the program
          try {
            heap.free(p);
            wrong.push(`malloc(${size}) with header ${junk}: free accepted it`);
          } catch (e) {
            const err = e as HeapError;
            if (err.code !== "CORRUPT_HEADER" || !err.message.includes(`ptr ${p} `))
              wrong.push(`malloc(${size}) with header 0x${junk.toString(16)}: ${err.message}`);
          }
          heap.u8[p - 1] = h; // the program's damage undone, the block frees normally
          heap.check();
          sentinels.assertIntact(`header overwritten on malloc(${size})`);
          heap.free(p);
        }
      }
      assert.deepEqual(wrong, []);
    });

    it("usableSize of a freed block: INVALID_POINTER (use after free)", () => {
      const { heap, sentinels } = setup(build);
      for (const size of [60, 3000, 100_000]) {
        const p = heap.malloc(size);
        heap.free(p);
        refused(heap, sentinels, `usableSize of freed malloc(${size})`, () => heap.usableSize(p), "INVALID_POINTER", new RegExp(`usableSize\\(ptr ${p} `), p);
      }
    });

    it("realloc of a freed block is refused, and the message names realloc", () => {
      const { heap, sentinels } = setup(build);
      for (const size of [60, 3000, 100_000]) {
        const p = heap.malloc(size);
        heap.free(p);
        refused(heap, sentinels, `realloc of freed malloc(${size})`, () => heap.realloc(p, 10), "INVALID_POINTER", new RegExp(`^INVALID_POINTER: realloc\\(ptr ${p} `), p);
      }
    });
  });
}

describe("header checks by build", () => {
  it("debug catches any change of a header byte, also to another class of the same tier", () => {
    const { heap, sentinels } = setup("debug");
    for (const [size, other] of [[60, 0xa1], [60, 0xa4 ^ 0x0f], [3000, 0xb0], [40_000, 0xb1], [100_000, 0xc1]] as const) {
      const p = heap.malloc(size);
      const h = heap.u8[p - 1];
      const changed = h === other ? other ^ 1 : other;
      heap.u8[p - 1] = changed;
      // check() itself would (rightly) report the damaged header: it runs once the byte is restored.
      refused(heap, null, `free(${p}) with header 0x${changed.toString(16)}`, () => heap.free(p), "CORRUPT_HEADER",
        new RegExp(`free\\(ptr ${p} .*header byte is 0x${changed.toString(16)}, was 0x${h.toString(16)}`), p, false);
      refused(heap, null, `usableSize(${p})`, () => heap.usableSize(p), "CORRUPT_HEADER", undefined, p, false);
      refused(heap, null, `realloc(${p})`, () => heap.realloc(p, 5), "CORRUPT_HEADER", undefined, p, false);
      heap.u8[p - 1] = h;
      heap.check();
      sentinels.assertIntact("another class in the header");
      heap.free(p);
    }
    heap.check();
  });

  it("release with the SuperSlab lookup route catches a tiny header naming another class", () => {
    const { heap, sentinels } = setup("release", { preset: "phase7-ss-lookup" });
    const p = heap.malloc(60); // class 3 (64-byte blocks)
    assert.equal(heap.u8[p - 1], 0xa3);
    heap.u8[p - 1] = 0xa5;
    refused(heap, sentinels, "free with header 0xa5", () => heap.free(p), "CORRUPT_HEADER", /header says class 5 but its slab serves class 3/, p, false);
    heap.u8[p - 1] = 0xa3;
    heap.free(p);
    heap.check();
  });

  it("debug names how many bytes into which block an interior pointer points", () => {
    const { heap, sentinels } = setup("debug");
    for (const [size, off] of [[60, 8], [60, 1], [3000, 2048], [100_000, 65_536]] as const) {
      const p = heap.malloc(size);
      const q = p + off;
      refused(heap, sentinels, `free(${p} + ${off})`, () => heap.free(q), "INVALID_POINTER",
        new RegExp(`free\\(ptr ${q} .*interior pointer, ${off} bytes into the live block at ptr ${p} `), q);
      heap.free(p);
    }
  });

  it("debug catches an interior pointer even when the bytes before it look like a live header", () => {
    const { heap, sentinels } = setup("debug");
    const p = heap.malloc(60);
    heap.u8.fill(0, p, p + 60);
    heap.u8[p + 7] = 0xa3; // what the header of a 64-byte block would be
    refused(heap, sentinels, "free(p + 8)", () => heap.free(p + 8), "INVALID_POINTER", /interior pointer, 8 bytes into the live block/);
    heap.free(p);
  });

  it("release header route: an interior pointer whose preceding user byte looks like a live header",
    { todo: "known limitation of the 1-byte header fast path (as in the C seed): free trusts any 0xA? byte at ptr - 1 when ptr % 8 == 1" },
    () => {
      const { heap, sentinels } = setup("release");
      const p = heap.malloc(60);
      heap.u8.fill(0, p, p + 60);
      heap.u8[p + 7] = 0xa3;
      refused(heap, sentinels, "free(p + 8)", () => heap.free(p + 8), "INVALID_POINTER");
    });
});

describe("debug free-route trace", () => {
  it("logs [FREE_ROUTE] header_fast (with the class) for header presets, ss_hit for lookup presets, and mid/large", () => {
    for (const [preset, tinyRoute] of [["current", /^\[FREE_ROUTE\] header_fast class=\d+ ptr=0x[0-9a-f]+$/], ["phase7-ss-lookup", /^\[FREE_ROUTE\] ss_hit ptr=0x[0-9a-f]+$/]] as const) {
      const lines: string[] = [];
      const heap = createHeap({ preset, build: "debug", freeRouteTrace: true, bytes: 4 * MiB, coalescingMaxRequest: COALESCING_MAX_REQUEST, log: (l) => lines.push(l) });
      const t = heap.malloc(100);
      const m = heap.malloc(3000);
      const l = heap.malloc(300_000);
      heap.free(t);
      heap.free(m);
      heap.free(l);
      const routes = lines.filter((x) => x.startsWith("[FREE_ROUTE]"));
      assert.equal(routes.length, 3, lines.join("\n"));
      assert.match(routes[0], tinyRoute);
      assert.ok(routes[0].endsWith(`ptr=0x${t.toString(16)}`));
      if (preset === "current") assert.equal(routes[0], `[FREE_ROUTE] header_fast class=${heap.u8[t - 1] & TINY_CLASS_MASK} ptr=0x${t.toString(16)}`);
      assert.equal(routes[1], `[FREE_ROUTE] mid ptr=0x${m.toString(16)}`);
      assert.equal(routes[2], `[FREE_ROUTE] large ptr=0x${l.toString(16)}`);
      assert.deepEqual(heap.stats().routes, { header_fast: preset === "current" ? 1 : 0, page_fast: 0, ss_hit: preset === "current" ? 0 : 1, mid: 1, large: 1, remote: 0 });
    }
  });

  it("the class in a header_fast line is the block's class", () => {
    const lines: string[] = [];
    const heap = createHeap({ preset: "phase7", build: "debug", freeRouteTrace: true, bytes: 4 * MiB, log: (l) => lines.push(l) });
    for (const size of [0, 10, 20, 40, 100, 200, 400, 1000]) heap.free(heap.malloc(size));
    const classes = lines.filter((l) => l.startsWith("[FREE_ROUTE]")).map((l) => Number(l.match(/class=(\d+)/)?.[1]));
    assert.deepEqual(classes, [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("HAKMEM_FREE_ROUTE_TRACE=1 turns it on from the environment; the release build never logs routes", () => {
    const lines: string[] = [];
    const saved = process.env.HAKMEM_FREE_ROUTE_TRACE;
    process.env.HAKMEM_FREE_ROUTE_TRACE = "1";
    let debugHeap: Heap;
    let releaseHeap: Heap;
    try {
      debugHeap = createHeap({ build: "debug", bytes: 4 * MiB, log: (l) => lines.push(`debug ${l}`) });
      releaseHeap = createHeap({ build: "release", bytes: 4 * MiB, log: (l) => lines.push(`release ${l}`) });
    } finally {
      if (saved === undefined) delete process.env.HAKMEM_FREE_ROUTE_TRACE;
      else process.env.HAKMEM_FREE_ROUTE_TRACE = saved;
    }
    debugHeap.free(debugHeap.malloc(10));
    releaseHeap.free(releaseHeap.malloc(10));
    assert.equal(lines.filter((l) => l.startsWith("debug [FREE_ROUTE] header_fast")).length, 1);
    assert.deepEqual(lines.filter((l) => l.startsWith("release")), []);
  });

  it("debug poolTrace logs the shared-pool stages by their seed names", () => {
    const lines: string[] = [];
    const heap = createHeap({ tinySlabAfterBytes: 0, build: "debug", poolTrace: true, bytes: 4 * MiB, log: (l) => lines.push(l) });
    heap.free(heap.malloc(10));
    assert.ok(lines.some((l) => l.startsWith("[SP_ACQUIRE_STAGE3]")), lines.join("\n"));
  });
});

describe("invalid options", () => {
  const cases: [string, HeapOptions, HeapErrorCode, RegExp][] = [
    ["bytes too small", { bytes: 1000 }, "INVALID_OPTION", /option bytes=1000 is invalid/],
    ["bytes 0", { bytes: 0 }, "INVALID_OPTION", /option bytes=0/],
    ["bytes negative", { bytes: -4 * MiB }, "INVALID_OPTION", /option bytes=/],
    ["bytes not an integer", { bytes: 4 * MiB + 0.5 }, "INVALID_OPTION", /option bytes=/],
    ["bytes as a string", { bytes: "4194304" as unknown as number }, "INVALID_OPTION", /option bytes="4194304"/],
    ["bytes above 2 GiB", { bytes: 2 ** 31 }, "INVALID_OPTION", /option bytes=2147483648/],
    ["no room for a SuperSlab (1 MiB)", { bytes: 1 * MiB }, "HEAP_CREATE_FAILED", /1048576-byte heap is too small/],
    ["no room for a SuperSlab (2 MiB)", { bytes: 2 * MiB }, "HEAP_CREATE_FAILED", /2097152-byte heap is too small/],
    ["no room for an aligned SuperSlab (4 MiB less a page)", { bytes: 4 * MiB - 64 * 1024 }, "HEAP_CREATE_FAILED", /4128768-byte heap is too small: its metadata ends at page 1, and a SuperSlab of 32 pages \(64 KiB each\), aligned to its size, would end at page 64, past its 63/],
    ["bad preset name", { preset: "phase8" as never }, "INVALID_OPTION", /option preset="phase8" is invalid: one of phase6-2, .*current/],
    ["tinyClasses empty", { tinyClasses: [] }, "INVALID_OPTION", /option tinyClasses=\[\]/],
    ["tinyClasses not multiples of 8", { tinyClasses: [8, 12] }, "INVALID_OPTION", /option tinyClasses=\[8,12\]/],
    ["tinyClasses not ascending", { tinyClasses: [16, 8] }, "INVALID_OPTION", /option tinyClasses=\[16,8\]/],
    ["tinyClasses with a duplicate", { tinyClasses: [8, 8, 16] }, "INVALID_OPTION", /option tinyClasses=/],
    ["tinyClasses reaching the mid tier", { tinyClasses: [8, 2048] }, "INVALID_OPTION", /option tinyClasses=\[8,2048\].*between 8 and 2040/],
    ["tinyClasses with 0", { tinyClasses: [0, 8] }, "INVALID_OPTION", /option tinyClasses=/],
    ["tinyClasses: 33 classes", { tinyClasses: Array.from({ length: 33 }, (_, i) => 8 * (i + 1)) }, "INVALID_OPTION", /option tinyClasses=.*1 to 32/],
    ["tinyClasses: 17 classes with the class mid tier", { tinyClasses: Array.from({ length: 17 }, (_, i) => 8 * (i + 1)), midTier: "classes" }, "INVALID_OPTION", /option tinyClasses=.*at most 16 classes in use .*which the class mid tier's headers would mistake/],
    ["tinyClasses: 17 classes with the SFC", { tinyClasses: Array.from({ length: 17 }, (_, i) => 8 * (i + 1)), sfcEnable: true }, "INVALID_OPTION", /option tinyClasses=.*which the SFC would mistake/],
    ["tinyClasses as a string", { tinyClasses: "8,16" as unknown as number[] }, "INVALID_OPTION", /option tinyClasses="8,16"/],
    ["superslabBytes 3 MiB", { superslabBytes: 3 * MiB }, "INVALID_OPTION", /option superslabBytes=3145728/],
    ["build", { build: "fast" as never }, "INVALID_OPTION", /option build="fast"/],
    ["freeRoute", { freeRoute: "fast" as never }, "INVALID_OPTION", /option freeRoute="fast"/],
    ["frontCapacity 0", { frontCapacity: 0 }, "INVALID_OPTION", /option frontCapacity=0/],
    ["refillCount negative", { refillCount: -1 }, "INVALID_OPTION", /option refillCount=-1/],
    ["sfcRefillCount above sfcCapacity", { sfcCapacity: 64, sfcRefillCount: 65 }, "INVALID_OPTION", /option sfcRefillCount=65/],
    ["registrySlots not a power of two", { registrySlots: 100 }, "INVALID_OPTION", /option registrySlots=100/],
    ["registryProbes 0", { registryProbes: 0 }, "INVALID_OPTION", /option registryProbes=0/],
    ["tinyMaxClass negative", { tinyMaxClass: -1 }, "INVALID_OPTION", /option tinyMaxClass=-1/],
    ["coalescingMaxRequest below the mid tier", { coalescingMaxRequest: 2047 }, "INVALID_OPTION", /option coalescingMaxRequest=2047 .*an integer 2048\.\.16646144/],
    ["coalescingMaxRequest past a region", { coalescingMaxRequest: 16 * MiB }, "INVALID_OPTION", /option coalescingMaxRequest=16777216 .*an integer 2048\.\.16646144/],
  ];
  for (const [name, options, code, message] of cases) {
    it(`${name}: ${code}`, () => {
      assert.throws(() => createHeap(options), (e: unknown) => {
        assert.ok(e instanceof HeapError, String(e));
        assert.equal(e.code, code, e.message);
        assert.match(e.message, message);
        return true;
      });
    });
  }

  it("tinyMaxClass above 31 is refused, not silently clamped", () => {
    assert.throws(() => createHeap({ tinyMaxClass: 32, bytes: 4 * MiB }), { code: "INVALID_OPTION", message: /tinyMaxClass=32 is invalid: an integer 0\.\.31/ });
  });
});

describe("a detached handle", () => {
  for (const preset of ["current", "compact", "aligned", "phase7"] as const) {
    it(`refuses every operation with DETACHED, and leaves every block as it was (${preset})`, () => {
      const owner = createHeap({ bytes: 32 * MiB, preset, shared: true });
      const heap = attachHeap(owner.handle());
      const t = heap.malloc(16);
      const m = heap.malloc(3000);
      const a = heap.alignedAlloc(64, 100);
      const large = heap.malloc(9 * MiB);
      const usable = [t, m, a, large].map((p) => heap.usableSize(p));
      heap.detach();
      assert.equal(heap.isDetached, true);
      const ops: [string, () => unknown][] = [
        ["malloc(16)", () => heap.malloc(16)],
        ["malloc(100)", () => heap.malloc(100)],
        ["malloc(3000)", () => heap.malloc(3000)],
        ["malloc(1 MiB)", () => heap.malloc(MiB)],
        ["calloc(4, 4)", () => heap.calloc(4, 4)],
        ["realloc(0, 8)", () => heap.realloc(0, 8)],
        ["free(tiny)", () => heap.free(t)],
        ["free(mid)", () => heap.free(m)],
        ["free(aligned)", () => heap.free(a)],
        ["realloc(aligned, 0)", () => heap.realloc(a, 0)],
        ["realloc(tiny, smaller)", () => heap.realloc(t, 8)],
        ["realloc(mid, smaller)", () => heap.realloc(m, 100)],
        ["realloc(mid, a little larger)", () => heap.realloc(m, 3100)],
        ["realloc(large, smaller)", () => heap.realloc(large, 100)],
        ["usableSize(mid)", () => heap.usableSize(m)],
      ];
      const accepted: string[] = [];
      for (const [name, op] of ops) {
        try {
          op();
          accepted.push(`${name} was accepted`);
        } catch (e) {
          if ((e as HeapError).code !== "DETACHED") accepted.push(`${name}: ${(e as Error).message}`);
          else assert.match((e as Error).message, /detached/);
        }
      }
      assert.deepEqual(accepted, []);
      // Nothing refused changed a block: the owner's handle sees them as they were, and frees them.
      assert.deepEqual([t, m, a, large].map((p) => owner.usableSize(p)), usable);
      for (const p of [t, m, a, large]) owner.free(p);
      owner.trim();
      owner.check();
      assert.equal(owner.stats().heapBytes, 0);
    });
  }
});
