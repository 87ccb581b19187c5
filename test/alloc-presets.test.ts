/**
 * The historical presets on one workload, told apart by the allocator's own counters: which route
 * free takes (header_fast vs ss_hit), how far the Phase 6-3 layered fast path grows the heap compared
 * with the integrated front, and what happens when that fast path runs out of fresh slabs. Also the
 * HAKMEM_* environment overrides and their precedence.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHeap, HeapError, PRESET_NAMES, resolveConfig, type Heap, type HeapOptions, type HeapStats, type PresetName } from "../lib";

const KiB = 1024;
const MiB = 1024 * KiB;

interface WorkloadResult {
  stats: HeapStats;
  tinyFrees: number;
  midFrees: number;
  oom: number;
}

/**
 * bench_random_mixed's loop with contents checked: CYCLES picks of a slot out of WS; an occupied slot
 * is freed (its first and last byte checked), an empty one gets malloc(MIN + r % (MAX - MIN + 1)).
 * Sizes 16..1000 are tiny in every preset; every 50th malloc is a mid block instead.
 */
function randomMixed(heap: Heap, cycles: number, seed = 1, ws = 400): WorkloadResult {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) >>> 1;
  };
  const ptr = new Array<number>(ws).fill(0);
  const size = new Array<number>(ws).fill(0);
  let tinyFrees = 0;
  let midFrees = 0;
  let oom = 0;
  let mallocs = 0;
  for (let i = 0; i < cycles; i++) {
    const s = next() % ws;
    if (ptr[s] !== 0) {
      const p = ptr[s];
      const n = size[s];
      assert.ok(heap.u8[p] === (s & 255) && heap.u8[p + n - 1] === (n & 255), `cycle ${i}: block ${p} (${n} bytes, slot ${s}) was overwritten`);
      heap.free(p);
      if (n < 1000) tinyFrees++;
      else midFrees++;
      ptr[s] = 0;
    } else {
      const n = ++mallocs % 50 === 0 ? 2000 + (next() % 6000) : 16 + (next() % (1000 - 16));
      const p = heap.malloc(n);
      if (p === 0) {
        oom++;
        continue;
      }
      heap.u8[p] = s & 255;
      heap.u8[p + n - 1] = n & 255;
      ptr[s] = p;
      size[s] = n;
    }
  }
  heap.check();
  const stats = heap.stats();
  for (let s = 0; s < ws; s++) if (ptr[s] !== 0) heap.free(ptr[s]);
  heap.check();
  return { stats, tinyFrees, midFrees, oom };
}

const HEADER_ROUTE: PresetName[] = ["current", "phase7"];
/** Tiny only below 16 bytes: frees are mostly mid ones, through the coalescing tier (and its cache). */
const COALESCING_ROUTE: PresetName[] = ["compact"];
const LOOKUP_ROUTE: PresetName[] = ["phase7-ss-lookup", "phase6-2", "phase6-3-integrated", "phase6-3-fastpath"];
const PAGE_ROUTE: PresetName[] = ["aligned"];

describe("presets on the same workload", () => {
  it("every preset name is covered by exactly one route group", () => {
    assert.deepEqual([...HEADER_ROUTE, ...LOOKUP_ROUTE, ...PAGE_ROUTE, ...COALESCING_ROUTE].sort(), [...PRESET_NAMES].sort());
  });

  for (const preset of PRESET_NAMES) {
    it(`${preset}: random frees/mallocs keep every block intact, check() passes, no OOM in 64 MiB`, () => {
      const heap = createHeap({ preset, bytes: 64 * MiB, fastStats: true });
      const r = randomMixed(heap, 100_000);
      assert.equal(r.oom, 0);
      assert.equal(r.stats.preset, preset);
      assert.ok(r.tinyFrees > 40_000 && r.midFrees > 500);
      const midRouted = COALESCING_ROUTE.includes(preset) ? r.tinyFrees + r.midFrees : r.midFrees;
      assert.equal(r.stats.routes.mid, midRouted, "mid frees are counted on the mid route");
    });
  }

  for (const preset of HEADER_ROUTE) {
    it(`${preset}: ~100% of tiny frees take header_fast, none ss_hit`, () => {
      const r = randomMixed(createHeap({ preset, bytes: 64 * MiB, fastStats: true }), 100_000);
      assert.equal(r.stats.routes.ss_hit, 0);
      assert.equal(r.stats.routes.header_fast, r.tinyFrees);
      assert.ok(r.stats.routes.header_fast! / (r.stats.routes.header_fast! + r.stats.routes.ss_hit) >= 0.99);
    });
  }

  for (const preset of LOOKUP_ROUTE) {
    it(`${preset}: 100% of tiny frees take ss_hit (the SuperSlab lookup), none header_fast`, () => {
      const r = randomMixed(createHeap({ preset, bytes: 64 * MiB, fastStats: true }), 100_000);
      assert.equal(r.stats.routes.header_fast, 0);
      assert.equal(r.stats.routes.ss_hit, r.tinyFrees);
    });
  }

  for (const preset of COALESCING_ROUTE) {
    it(`${preset}: every free of 16 bytes or more takes the mid route (the coalescing tier), none header_fast or ss_hit`, () => {
      const r = randomMixed(createHeap({ preset, bytes: 64 * MiB, fastStats: true }), 100_000);
      assert.equal(r.stats.routes.header_fast, 0);
      assert.equal(r.stats.routes.ss_hit, 0);
      assert.equal(r.stats.routes.mid, r.tinyFrees + r.midFrees);
    });
  }

  for (const preset of PAGE_ROUTE) {
    it(`${preset}: 100% of tiny frees find their class through the page metadata (page_fast), none header_fast or ss_hit`, () => {
      const r = randomMixed(createHeap({ preset, bytes: 64 * MiB, fastStats: true }), 100_000);
      assert.equal(r.stats.routes.header_fast, 0);
      assert.equal(r.stats.routes.ss_hit, 0);
      assert.equal(r.stats.routes.page_fast, r.tinyFrees);
    });
  }

  it("phase6-3-fastpath grows the heap far more than phase6-3-integrated on the same workload", () => {
    const fast = randomMixed(createHeap({ preset: "phase6-3-fastpath", bytes: 64 * MiB }), 200_000);
    const integrated = randomMixed(createHeap({ preset: "phase6-3-integrated", bytes: 64 * MiB }), 200_000);
    const ratio = fast.stats.peakHeapBytes / integrated.stats.peakHeapBytes;
    assert.ok(ratio >= 4, `peakHeapBytes fastpath ${fast.stats.peakHeapBytes} / integrated ${integrated.stats.peakHeapBytes} = ${ratio.toFixed(2)}, expected >= 4`);
    assert.ok(fast.stats.peakSuperslabs >= integrated.stats.peakSuperslabs);
    assert.ok(fast.stats.counters.fast_refills > 0, "the layered fast path refills from fresh slabs");
    assert.equal(integrated.stats.counters.fast_refills, 0);
  });

  it("phase6-3-fastpath in a small heap: fresh slabs run out (fast_refill_failures > 0) and the program keeps working", () => {
    const heap = createHeap({ preset: "phase6-3-fastpath", bytes: 4 * MiB });
    const r = randomMixed(heap, 300_000, 7);
    assert.ok(r.stats.counters.fast_refill_failures > 0, "the fast refill failed once the heap had no fresh slab left");
    assert.equal(r.oom, 0, "every malloc was still served, by the Box path underneath");
    assert.ok(r.stats.peakHeapBytes <= 4 * MiB);
    // And it is still usable afterwards.
    const ptrs = Array.from({ length: 2000 }, (_, i) => heap.malloc(16 + (i % 900)));
    assert.ok(ptrs.every((p) => p !== 0));
    for (const p of ptrs) heap.free(p);
    heap.check();
  });

  it("phase6-3-fastpath: a slab the fast refill still carves from is never reformatted under live blocks", () => {
    // Its fresh slab can become empty while still in use by the fast refill (blocks freed into the
    // SLL spill back to it); the Box path must not then take it over (STAGE0_L0) and carve it again.
    const heap = createHeap({ preset: "phase6-3-fastpath", bytes: 4 * MiB });
    const a = Array.from({ length: 1024 + 80 }, () => heap.malloc(50)); // one full slab of 64-byte blocks + 80
    const slabOf = (p: number) => p >>> 16;
    const first = a.filter((p) => slabOf(p) === slabOf(a[0]));
    const second = a.filter((p) => slabOf(p) !== slabOf(a[0]));
    assert.equal(first.length, 1024);
    for (const p of first.slice(0, 16 + 945)) heap.free(p);
    for (const p of second) heap.free(p); // the SLL reaches 1025 and spills: the second slab is empty now
    const x = Array.from({ length: 32 }, () => {
      const p = heap.malloc(50);
      heap.u8.fill(0x5a, p, p + 50);
      return p;
    });
    // Another class takes every fresh slab, then falls back to the Box path, until the heap is full.
    const y: number[] = [];
    const failures0 = heap.stats().counters.fast_refill_failures;
    while (heap.stats().counters.fast_refill_failures < failures0 + 100) {
      const p = heap.malloc(100);
      if (p === 0) break; // every slab holds live blocks or is this class's fresh slab
      assert.ok(heap.stats().counters.fast_refill_failures > failures0 || y.length < 20_000);
      heap.u8.fill(0x11, p, p + 100);
      y.push(p);
      assert.ok(y.length < 40_000);
    }
    assert.ok(heap.stats().counters.fast_refill_failures > failures0, "the fast refill ran out of fresh slabs");
    const damaged = x.filter((p) => !heap.u8.subarray(p, p + 50).every((b) => b === 0x5a));
    assert.deepEqual(damaged, [], `${damaged.length} of ${x.length} live 50-byte blocks were overwritten by 100-byte blocks`);
    heap.check();
  });
});

describe("environment overrides", () => {
  /** Sets process.env variables for the duration of `fn`, then restores them exactly. */
  function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
    const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
    Object.assign(process.env, vars);
    try {
      return fn();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  it("HAKMEM_FREE_ROUTE=lookup through resolveConfig(options, env)", () => {
    assert.equal(resolveConfig({}, {}).freeRoute, "header");
    assert.equal(resolveConfig({}, { HAKMEM_FREE_ROUTE: "lookup" }).freeRoute, "lookup");
    assert.equal(resolveConfig({ preset: "phase7" }, { HAKMEM_FREE_ROUTE: "lookup" }).freeRoute, "lookup", "env overrides the preset");
    assert.equal(resolveConfig({}, { HAKMEM_FREE_ROUTE: "" }).freeRoute, "header", "an empty variable is ignored");
  });

  it("HAKMEM_FREE_ROUTE=lookup through createHeap while process.env has it, restored afterwards", () => {
    const before = process.env.HAKMEM_FREE_ROUTE;
    const heap = withEnv({ HAKMEM_FREE_ROUTE: "lookup" }, () => createHeap({ bytes: 4 * MiB, fastStats: true }));
    assert.equal(process.env.HAKMEM_FREE_ROUTE, before, "process.env restored");
    assert.equal(heap.config.freeRoute, "lookup");
    const ptrs = Array.from({ length: 100 }, (_, i) => heap.malloc(i));
    for (const p of ptrs) heap.free(p);
    assert.equal(heap.stats().routes.ss_hit, 100);
    assert.equal(heap.stats().routes.header_fast, 0);
    // A heap made after the restore is back to the default.
    assert.equal(createHeap({ bytes: 4 * MiB }).config.freeRoute, before ?? "header");
  });

  it("other variables: preset, build, classes, sizes, booleans", () => {
    const c = resolveConfig({}, {
      HAKMEM_PRESET: "phase6-2", HAKMEM_BUILD: "debug", HAKMEM_TINY_CLASSES: "16, 32,64", HAKMEM_HEAP_BYTES: String(8 * MiB + 5),
      HAKMEM_SFC_ENABLE: "on", HAKMEM_TINY_FRONT_CACHE: "yes", HAKMEM_TINY_SLL_CAPACITY: "64",
    });
    assert.equal(c.preset, "phase6-2");
    assert.equal(c.build, "debug");
    assert.deepEqual(c.tinyClasses, [16, 32, 64]);
    assert.equal(c.bytes, 8 * MiB, "rounded down to 64 KiB");
    assert.equal(c.sfcEnable, true);
    assert.equal(c.frontCache, true, "env overrides the preset's frontCache: false");
    assert.equal(c.frontCapacity, 64);
    const heap = withEnv({ HAKMEM_PRESET: "phase7-ss-lookup", HAKMEM_BUILD: "debug" }, () => createHeap({ bytes: 4 * MiB }));
    assert.equal(heap.config.preset, "phase7-ss-lookup");
    assert.equal(heap.stats().build, "debug");
  });

  it("explicit options win over the environment", () => {
    const env = { HAKMEM_FREE_ROUTE: "lookup", HAKMEM_PRESET: "phase6-2", HAKMEM_BUILD: "debug", HAKMEM_HEAP_BYTES: String(8 * MiB), HAKMEM_SFC_ENABLE: "1" };
    const c = resolveConfig({ freeRoute: "header", preset: "phase7", build: "release", bytes: 4 * MiB, sfcEnable: false }, env);
    assert.equal(c.freeRoute, "header");
    assert.equal(c.preset, "phase7");
    assert.equal(c.build, "release");
    assert.equal(c.bytes, 4 * MiB);
    assert.equal(c.sfcEnable, false);
    // An option given as undefined does not hide the variable.
    assert.equal(resolveConfig({ freeRoute: undefined } as HeapOptions, env).freeRoute, "lookup");
    const heap = withEnv({ HAKMEM_FREE_ROUTE: "lookup" }, () => createHeap({ bytes: 4 * MiB, freeRoute: "header", fastStats: true }));
    heap.free(heap.malloc(10));
    assert.equal(heap.stats().routes.header_fast, 1);
  });

  it("an invalid value raises INVALID_OPTION naming the variable and the value", () => {
    const bad: Record<string, string> = {
      HAKMEM_FREE_ROUTE: "fast",
      HAKMEM_PRESET: "phase8",
      HAKMEM_BUILD: "profile",
      HAKMEM_HEAP_BYTES: "64M",
      HAKMEM_SFC_ENABLE: "maybe",
      HAKMEM_TINY_CLASSES: "8,16,x",
      HAKMEM_TINY_MAX_CLASS: "-1",
      HAKMEM_SFC_CAPACITY: "1.5",
    };
    for (const [name, value] of Object.entries(bad)) {
      assert.throws(() => resolveConfig({}, { [name]: value }), (e: unknown) => {
        assert.ok(e instanceof HeapError, `${name}=${value}: not a HeapError`);
        assert.equal(e.code, "INVALID_OPTION");
        assert.match(e.message, new RegExp(name), `${name}=${value}: message does not name the variable: ${e.message}`);
        assert.ok(e.message.includes(value), `${name}=${value}: message does not show the value: ${e.message}`);
        return true;
      });
    }
    // Through createHeap as well, and process.env is left as it was.
    assert.throws(() => withEnv({ HAKMEM_FREE_ROUTE: "fast" }, () => createHeap({ bytes: 4 * MiB })), { code: "INVALID_OPTION", message: /HAKMEM_FREE_ROUTE/ });
    // Every variable that is set is validated, even one an explicit option overrides.
    assert.throws(() => resolveConfig({ freeRoute: "header" }, { HAKMEM_FREE_ROUTE: "fast" }), { code: "INVALID_OPTION" });
  });

  it("a well-formed value the heap cannot use also names the variable it came from", () => {
    const bad: Record<string, string> = {
      HAKMEM_HEAP_BYTES: "1000",
      HAKMEM_TINY_CLASSES: "8,12",
      HAKMEM_REGISTRY_SLOTS: "100",
      HAKMEM_SUPERSLAB_BYTES: "3145728",
      HAKMEM_SFC_CAPACITY: "0",
    };
    const wrong: string[] = [];
    for (const [name, value] of Object.entries(bad)) {
      try {
        resolveConfig({}, { [name]: value });
        wrong.push(`${name}=${value}: accepted`);
      } catch (e) {
        if (!(e instanceof HeapError) || e.code !== "INVALID_OPTION") wrong.push(`${name}=${value}: ${String(e)}`);
        else if (!e.message.includes(name)) wrong.push(`${name}=${value}: message does not name the variable: ${e.message}`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});
