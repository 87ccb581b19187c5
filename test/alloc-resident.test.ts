/**
 * The heap's resident bytes (heap.stats().residentBytes): its pages ever written, the figure the bench
 * reports as hakmem's footprint. They never fall, they are at least the tiers' peak (peakHeapBytes),
 * pages a tier gives back stay in them, and on Linux they are what the kernel has resident of the
 * buffer (/proc/self/pagemap, the second reading).
 */
import assert from "node:assert/strict";
import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { describe, it } from "node:test";
import { COALESCING_MAX_REQUEST, createHeap, type Heap, type HeapOptions, type PresetName } from "../lib";

const KiB = 1024;
const MiB = 1024 * KiB;
const OS_PAGE = 4096;

/** A deterministic generator (LCG), so a failure replays. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Sizes across every tier: tiny, mid and large, a few of them big enough to leave holes when freed. */
function sizeFrom(r: number): number {
  if (r < 0.7) return 1 + Math.floor(r * 1400);
  if (r < 0.98) return 1024 + Math.floor((r - 0.7) * 800_000);
  return 300 * KiB + Math.floor((r - 0.98) * 100 * MiB);
}

describe("resident bytes", () => {
  for (const preset of ["current", "compact", "phase7"] as PresetName[]) {
    it(`${preset}: never fall, and stay at or above the tiers' peak, through mallocs, reallocs, frees and trim`, () => {
      const heap = createHeap({ preset, bytes: 64 * MiB });
      const rand = lcg(7);
      const live: number[] = [];
      let last = 0;
      for (let op = 0; op < 4000; op++) {
        if (live.length > 200 || (live.length > 0 && rand() < 0.45)) {
          const i = Math.floor(rand() * live.length);
          const p = live[i];
          live[i] = live[live.length - 1];
          live.pop();
          if (rand() < 0.3) {
            const n = sizeFrom(rand());
            const q = heap.realloc(p, n);
            assert.notEqual(q, 0, `op ${op}: realloc to ${n} bytes failed`);
            heap.u8.fill(op & 255, q, q + n);
            live.push(q);
          } else heap.free(p);
        } else {
          const n = sizeFrom(rand());
          const p = heap.malloc(n);
          assert.notEqual(p, 0, `op ${op}: malloc(${n}) failed`);
          heap.u8.fill(op & 255, p, p + n);
          live.push(p);
        }
        if (op % 1000 === 999) heap.trim();
        const s = heap.stats();
        assert.ok(s.residentBytes >= last, `op ${op}: resident fell from ${last} to ${s.residentBytes}`);
        assert.ok(s.residentBytes >= s.peakHeapBytes, `op ${op}: resident ${s.residentBytes} below the tiers' peak ${s.peakHeapBytes}`);
        assert.equal(s.residentBytes % OS_PAGE, 0);
        last = s.residentBytes;
      }
      for (const p of live) heap.free(p);
      heap.trim();
      assert.equal(heap.stats().residentBytes, last, "resident after freeing everything and trim");
      heap.check(); // throws on any inconsistency
    });
  }

  it("keep a freed large block's pages, which the next block of its size takes again", () => {
    const heap = createHeap({ preset: "current", bytes: 64 * MiB });
    const a = heap.malloc(MiB);
    heap.u8.fill(1, a, a + MiB);
    const written = heap.stats().residentBytes;
    assert.ok(written >= MiB, `resident ${written} after writing 1 MiB`);
    heap.free(a);
    assert.ok(heap.stats().heapBytes < written - MiB / 2, "the tiers gave the block's pages back");
    assert.equal(heap.stats().residentBytes, written, "a freed block's pages stay resident");
    const b = heap.malloc(MiB);
    heap.u8.fill(2, b, b + MiB);
    assert.equal(heap.stats().residentBytes, written, "a block of the same size reuses the written pages");
  });

  it("a freed 1 MiB block serves smaller blocks in the pages it wrote in a coalescing tier up to 8 MiB; from the large tier it cannot", () => {
    const grown = (options: HeapOptions) => {
      const heap = createHeap({ ...options, bytes: 64 * MiB });
      const keep = heap.malloc(4000); // the region stays when the big block goes
      const big = heap.malloc(MiB);
      heap.u8.fill(1, big, big + MiB);
      heap.free(big);
      const before = heap.stats().residentBytes;
      for (let i = 0; i < 400; i++) {
        const p = heap.malloc(2000);
        heap.u8.fill(2, p, p + 2000);
      }
      heap.free(keep);
      return heap.stats().residentBytes - before;
    };
    assert.equal(grown({ preset: "compact" }), 0, "compact wrote no new page for 800 KB of blocks");
    assert.equal(grown({ preset: "current" }), 0, "nor did current");
    const large = grown({ preset: "current", coalescingMaxRequest: COALESCING_MAX_REQUEST });
    assert.ok(large >= 700 * KiB, `with the tier ending at 256 KiB, the blocks of 2000 bytes took ${large >> 10} KiB of new pages`);
  });

  it("are the buffer's pages the kernel has resident (/proc/self/pagemap), where the tiers' peak is not", (t) => {
    const why = pagemapUnusable();
    if (why !== null) return t.skip(why);
    const heap = createHeap({ preset: "current", bytes: 48 * MiB + 7 * OS_PAGE, coalescingMaxRequest: COALESCING_MAX_REQUEST });
    const base = bufferAddress(heap);
    const arenaStart = heap.mem.layout.metaPages * 64 * KiB;
    const before = residentPages(base, arenaStart, heap.u8.length);
    assert.equal(before, 0, "no arena page is resident in a new heap");
    // A 1 MiB block written and freed, a 300 KiB one kept after it, then 2 MiB that cannot fit in the
    // hole: the tiers' peak is the last two, resident is all three.
    const a = heap.malloc(MiB);
    heap.u8.fill(1, a, a + MiB);
    const keep = heap.malloc(300 * KiB);
    heap.u8.fill(2, keep, keep + 300 * KiB);
    heap.free(a);
    const c = heap.malloc(2 * MiB);
    heap.u8.fill(3, c, c + 2 * MiB);
    const s = heap.stats();
    const kernel = residentPages(base, arenaStart, heap.u8.length) * OS_PAGE;
    // The buffer starts 16 bytes into its first OS page, so a 4 KiB unit may reach one more OS page.
    assert.ok(Math.abs(kernel - s.residentBytes) <= 2 * OS_PAGE, `kernel ${kernel}, heap.stats().residentBytes ${s.residentBytes}`);
    assert.ok(s.peakHeapBytes < kernel - MiB / 2, `the tiers' peak ${s.peakHeapBytes} misses the freed block's pages (${kernel} resident)`);
  });
});

/** Why /proc/self/pagemap cannot tell this buffer's resident pages here, or null. */
function pagemapUnusable(): string | null {
  if (process.platform !== "linux" || !existsSync("/proc/self/pagemap")) return "no /proc/self/pagemap (Linux only)";
  const thp = "/sys/kernel/mm/transparent_hugepage/enabled";
  if (existsSync(thp) && readFileSync(thp, "utf8").includes("[always]")) return "transparent huge pages are always on: a write makes 2 MiB resident";
  return null;
}

/** The buffer's address: the mapping whose bytes, read through /proc/self/mem, are the heap's first ones. */
function bufferAddress(heap: Heap): bigint {
  const head = Buffer.from(heap.u8.buffer, 0, 256);
  const probe = Buffer.alloc(256);
  const length = BigInt(heap.u8.length);
  const mem = openSync("/proc/self/mem", "r");
  try {
    for (const line of readFileSync("/proc/self/maps", "utf8").split("\n")) {
      const m = /^([0-9a-f]+)-([0-9a-f]+) rw/.exec(line);
      if (m === null) continue;
      const lo = BigInt(`0x${m[1]}`);
      const hi = BigInt(`0x${m[2]}`);
      if (hi - lo < length) continue;
      // The buffer opens its own mapping (after the allocator's 16-byte chunk header), or ends one it was merged into.
      const tail = hi - ((length + 16n + 4095n) & ~4095n);
      for (const at of [lo, lo + 16n, tail, tail + 16n]) {
        try {
          readSync(mem, probe, 0, 256, at);
        } catch {
          continue;
        }
        if (probe.equals(head)) return at;
      }
    }
  } finally {
    closeSync(mem);
  }
  throw new Error("the heap's buffer is in no mapping of /proc/self/maps");
}

/** OS pages of [from, to) of the buffer at `base` that are resident and this process's alone (not the zero page). */
function residentPages(base: bigint, from: number, to: number): number {
  const first = (base + BigInt(from)) / 4096n;
  const last = (base + BigInt(to) - 1n) / 4096n;
  const entries = Buffer.alloc(Number(last - first + 1n) * 8);
  const fd = openSync("/proc/self/pagemap", "r");
  try {
    readSync(fd, entries, 0, entries.length, first * 8n);
  } finally {
    closeSync(fd);
  }
  let n = 0;
  for (let i = 0; i < entries.length; i += 8) {
    const high = entries.readUInt32LE(i + 4);
    if ((high & 0x80000000) !== 0 && (high & 0x01000000) !== 0) n++; // present, and exclusively mapped
  }
  return n;
}
