/**
 * The shared pool's acquire stages and release paths (lib/alloc/shared-pool.ts), each reached by a
 * small deterministic scenario and asserted through heap.stats().pool, and in the debug build with
 * poolTrace through the tagged trace lines (SP_ACQUIRE_STAGE3 ...). The release build with poolTrace
 * logs nothing.
 *
 * The scenarios run with the front cache off (every free goes straight back to its slab, every
 * malloc takes one block), 1 MiB SuperSlabs (16 slabs of 64 KiB) and two tiny classes:
 * malloc(1000) is class 15 (1032-byte blocks, 63 per slab), malloc(700) is class 14 (768-byte
 * blocks, 85 per slab).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHeap, FINE_TINY_CLASSES, type Heap, type HeapOptions, type HeapStats } from '../lib';
import { fixture, messageOf, runWorker } from './fixtures/threads-spawn';
import type { PoolWorkerJob, PoolWorkerMessage } from './fixtures/threads-pool-worker';

const MiB = 1 << 20;
const SLAB_SHIFT = 16; // 64 KiB slabs
const SS_SHIFT = 20; // 1 MiB SuperSlabs
const C15 = 1000; // class 15: 1032-byte blocks, 63 per slab
const C15_PER_SLAB = 63;
const C14 = 700; // class 14: 768-byte blocks, 85 per slab
const C14_PER_SLAB = 85;

type Pool = HeapStats['pool'];
const ZERO: Pool = {
  stage0_l0: 0, stage0_5_empty: 0, stage1_lockfree: 0, stage2_lockfree: 0, stage3_new_superslab: 0,
  slot_release: 0, slot_freelist: 0, superslab_completely_empty: 0,
};
const TAGS = {
  stage0_l0: 'SP_ACQUIRE_STAGE0_L0',
  stage0_5_empty: 'SP_ACQUIRE_STAGE0.5_EMPTY',
  stage1_lockfree: 'SP_ACQUIRE_STAGE1_LOCKFREE',
  stage2_lockfree: 'SP_ACQUIRE_STAGE2_LOCKFREE',
  stage3_new_superslab: 'SP_ACQUIRE_STAGE3',
  slot_release: 'SP_SLOT_RELEASE',
  slot_freelist: 'SP_SLOT_FREELIST_LOCKFREE',
  superslab_completely_empty: 'SP_SLOT_COMPLETELY_EMPTY',
} as const;

const slabOf = (p: number) => (p - 1) >>> SLAB_SHIFT;
const superSlabOf = (p: number) => (p - 1) >>> SS_SHIFT;

/** A heap for the scenarios (the sixteen classes the class numbers above are of); debug build with the pool trace collected in `lines`. */
function scenarioHeap(extra: HeapOptions = {}): { heap: Heap; lines: string[] } {
  const lines: string[] = [];
  const heap = createHeap({
    bytes: 16 * MiB, superslabBytes: MiB, frontCache: false, build: 'debug', poolTrace: true, tinyClasses: FINE_TINY_CLASSES, tinySlabAfterBytes: 0,
    log: (line) => lines.push(line), ...extra,
  });
  return { heap, lines };
}

function mallocN(heap: Heap, size: number, n: number): number[] {
  return Array.from({ length: n }, () => {
    const p = heap.malloc(size);
    assert.notEqual(p, 0, `malloc(${size}) ran out of memory`);
    return p;
  });
}

function expectPool(heap: Heap, want: Partial<Pool>, when: string): void {
  assert.deepEqual(heap.stats().pool, { ...ZERO, ...want }, `pool counters ${when}`);
}

/** The trace lines' tags, in order. */
function tags(lines: string[]): string[] {
  return lines.map((l) => {
    const m = /^\[([A-Z0-9_.]+)\] tid=\d+ class=\d+ slab=\d+$/.exec(l);
    assert.ok(m, `unexpected trace line ${JSON.stringify(l)}`);
    return m[1];
  });
}

/** The trace line of one pool event. */
function line(stage: keyof Pool, tid: number, cls: number, slab: number): string {
  return `[${TAGS[stage]}] tid=${tid} class=${cls} slab=${slab}`;
}

/** Pointers grouped by slab, slabs in the order they were first used. */
function bySlab(ptrs: number[]): number[][] {
  const groups = new Map<number, number[]>();
  for (const p of ptrs) {
    if (!groups.has(slabOf(p))) groups.set(slabOf(p), []);
    groups.get(slabOf(p))!.push(p);
  }
  return [...groups.values()];
}

describe('shared pool: acquire stages', () => {
  it('STAGE3: the first allocation maps a new SuperSlab', () => {
    const { heap, lines } = scenarioHeap();
    const p = heap.malloc(C15);
    expectPool(heap, { stage3_new_superslab: 1 }, 'after the first malloc');
    assert.equal(heap.stats().superslabs, 1);
    assert.deepEqual(lines, [line('stage3_new_superslab', heap.tid, 15, slabOf(p))]);
    heap.free(p);
    heap.check();
  });

  it('STAGE2: a second slab comes from an UNUSED slot of the same SuperSlab', () => {
    const { heap, lines } = scenarioHeap();
    const ptrs = mallocN(heap, C15, C15_PER_SLAB + 1);
    const [first, second] = bySlab(ptrs);
    assert.equal(first.length, C15_PER_SLAB);
    assert.equal(second.length, 1);
    assert.equal(superSlabOf(second[0]), superSlabOf(first[0]), 'the second slab is in the same SuperSlab');
    assert.equal(slabOf(second[0]), slabOf(first[0]) + 1, 'slots are claimed in order');
    expectPool(heap, { stage3_new_superslab: 1, stage2_lockfree: 1 }, 'after 65 blocks of class 15');
    assert.deepEqual(lines, [
      line('stage3_new_superslab', heap.tid, 15, slabOf(first[0])),
      line('stage2_lockfree', heap.tid, 15, slabOf(second[0])),
    ]);
    heap.check();
  });

  it('STAGE0_L0: a slab emptied by a thread is kept in its L0 slot and handed out again to it', () => {
    const { heap, lines } = scenarioHeap();
    const a = mallocN(heap, C15, C15_PER_SLAB); // slab A, full
    const b = mallocN(heap, C15, 1); // slab B, now the current slab
    for (const p of a) heap.free(p); // A empties: kept in L0, not given to the pool
    expectPool(heap, { stage3_new_superslab: 1, stage2_lockfree: 1 }, 'after emptying slab A (kept in L0)');
    b.push(...mallocN(heap, C15, C15_PER_SLAB - 1)); // B full
    const again = heap.malloc(C15);
    assert.equal(slabOf(again), slabOf(a[0]), 'the next slab is A again, from L0');
    expectPool(heap, { stage3_new_superslab: 1, stage2_lockfree: 1, stage0_l0: 1 }, 'after refilling from L0');
    assert.deepEqual(tags(lines), [TAGS.stage3_new_superslab, TAGS.stage2_lockfree, TAGS.stage0_l0]);
    assert.equal(lines[2], line('stage0_l0', heap.tid, 15, slabOf(a[0])));
    heap.check();
  });

  it('STAGE0.5_EMPTY: an EMPTY slot of the SuperSlab the thread used last is reused for another class', () => {
    const { heap, lines } = scenarioHeap();
    const x = mallocN(heap, C14, C14_PER_SLAB); // class 14 fills slab X (STAGE3)
    const y = heap.malloc(C15); // class 15 gets slab Y (STAGE2)
    heap.free(y);
    // trim() gives the empty current slab Y back: through L0, then to the pool (EMPTY, class 15 list).
    heap.trim();
    expectPool(heap, { stage3_new_superslab: 1, stage2_lockfree: 1, slot_release: 1, slot_freelist: 1 }, 'after trim()');
    const p = heap.malloc(C14); // X is full: class 14 needs a slab; the EMPTY class-15 slot Y is in its SuperSlab
    assert.equal(slabOf(p), slabOf(y), 'class 14 reuses the EMPTY slot Y');
    assert.equal(superSlabOf(p), superSlabOf(x[0]));
    expectPool(heap, { stage3_new_superslab: 1, stage2_lockfree: 1, slot_release: 1, slot_freelist: 1, stage0_5_empty: 1 }, 'after the class-14 refill');
    assert.equal(lines[lines.length - 1], line('stage0_5_empty', heap.tid, 14, slabOf(y)));
    assert.equal(heap.usableSize(p), 767, 'the slot was reformatted for class 14');
    heap.check();
  });

  it('STAGE1_LOCKFREE: the same thread takes a slot from its class list once its L0 slot is taken', () => {
    const { heap, lines } = scenarioHeap();
    const a = mallocN(heap, C15, 16 * C15_PER_SLAB); // SuperSlab SA: all 16 slabs (STAGE3 + 15 x STAGE2)
    const b = mallocN(heap, C15, 1); // SuperSlab SB (STAGE3): the class's hint is now SB
    assert.equal(new Set(a.map(superSlabOf)).size, 1);
    assert.notEqual(superSlabOf(b[0]), superSlabOf(a[0]));
    const [slab0, slab1] = bySlab(a);
    for (const p of slab0) heap.free(p); // -> L0
    for (const p of slab1) heap.free(p); // L0 taken -> released to the pool, class 15 list
    const other = heap.malloc(C14); // class 14 takes the L0 slab
    assert.equal(slabOf(other), slabOf(slab0[0]));
    b.push(...mallocN(heap, C15, C15_PER_SLAB - 1)); // SB's slab full
    const p = heap.malloc(C15); // no L0, no EMPTY slot in SB: pop the class-15 list
    assert.equal(slabOf(p), slabOf(slab1[0]));
    expectPool(heap, {
      stage3_new_superslab: 2, stage2_lockfree: 15, stage0_l0: 1, slot_release: 1, slot_freelist: 1, stage1_lockfree: 1,
    }, 'after the class-15 refill');
    assert.equal(lines[lines.length - 1], line('stage1_lockfree', heap.tid, 15, slabOf(slab1[0])));
    heap.check();
  });

  it('STAGE1_LOCKFREE: a slab of class c emptied by one thread is reused for class c by another (2 threads)', async () => {
    const { heap, lines } = scenarioHeap({ shared: true });
    const [a, b] = bySlab(mallocN(heap, C15, 2 * C15_PER_SLAB + 1)); // slabs A, B full; a third is current
    for (const p of a) heap.free(p); // A -> L0
    for (const p of b) heap.free(p); // B -> pool: EMPTY, on the class-15 list
    expectPool(heap, { stage3_new_superslab: 1, stage2_lockfree: 2, slot_release: 1, slot_freelist: 1 }, 'after the main thread emptied A and B');
    const job: PoolWorkerJob = { handle: heap.handle(), sizes: [C15], free: true };
    const out = await runWorker<PoolWorkerMessage>(fixture('threads-pool-worker.ts'), job);
    const done = messageOf(out, 'done');
    assert.equal(out.exitCode, 0);
    assert.notEqual(done.tid, heap.tid);
    assert.equal(slabOf(done.ptrs[0]), slabOf(b[0]), 'the worker got slab B from the class list');
    assert.deepEqual(done.lines, [line('stage1_lockfree', done.tid, 15, slabOf(b[0])), line('slot_release', done.tid, 15, slabOf(b[0])), line('slot_freelist', done.tid, 15, slabOf(b[0]))]);
    assert.equal(done.pool.stage1_lockfree, 1);
    // The worker detached: its counters are merged into the heap's (its detach released B again).
    expectPool(heap, { stage3_new_superslab: 1, stage2_lockfree: 2, stage1_lockfree: 1, slot_release: 2, slot_freelist: 2 }, 'after the worker detached');
    assert.deepEqual(tags(lines), [TAGS.stage3_new_superslab, TAGS.stage2_lockfree, TAGS.stage2_lockfree, TAGS.slot_release, TAGS.slot_freelist]);
    heap.check();
  });
});

describe('shared pool: release paths', () => {
  it('SP_SLOT_RELEASE + SP_SLOT_FREELIST_LOCKFREE: an emptied slab goes to the pool when L0 is taken', () => {
    const { heap, lines } = scenarioHeap();
    const [a, b] = bySlab(mallocN(heap, C15, 2 * C15_PER_SLAB + 1));
    for (const p of a) heap.free(p); // -> L0
    expectPool(heap, { stage3_new_superslab: 1, stage2_lockfree: 2 }, 'after emptying the first slab');
    for (const p of b) heap.free(p); // L0 taken -> pool
    expectPool(heap, { stage3_new_superslab: 1, stage2_lockfree: 2, slot_release: 1, slot_freelist: 1 }, 'after emptying the second slab');
    assert.deepEqual(lines.slice(-2), [line('slot_release', heap.tid, 15, slabOf(b[0])), line('slot_freelist', heap.tid, 15, slabOf(b[0]))]);
    heap.check();
  });

  it('SP_SLOT_COMPLETELY_EMPTY: with 2 SuperSlabs live, a fully used one that empties goes back to the arena', () => {
    const { heap, lines } = scenarioHeap();
    const a = mallocN(heap, C15, 16 * C15_PER_SLAB); // SuperSlab SA, every slot claimed
    const b = heap.malloc(C15); // SuperSlab SB
    assert.equal(heap.stats().superslabs, 2);
    const before = heap.stats();
    for (const p of a) heap.free(p); // first empty slab -> L0, the other 15 -> pool
    heap.trim(); // L0 -> pool: SA's last active slot
    const st = heap.stats();
    expectPool(heap, {
      stage3_new_superslab: 2, stage2_lockfree: 15, slot_release: 16, slot_freelist: 15, superslab_completely_empty: 1,
    }, 'after SA emptied and trim()');
    assert.equal(st.superslabs, 1);
    assert.ok(st.heapBytes <= before.heapBytes - MiB, `heapBytes ${before.heapBytes} -> ${st.heapBytes}: SA's 1 MiB should be gone`);
    assert.equal(lines[lines.length - 1], line('superslab_completely_empty', heap.tid, 15, slabOf(a[0])));
    heap.check();
    heap.free(b);
    heap.check();
  });

  it('SP_SLOT_COMPLETELY_EMPTY: with 2 SuperSlabs live, a partly claimed one whose slabs all empty goes back too', () => {
    const { heap, lines } = scenarioHeap();
    mallocN(heap, C15, 16 * C15_PER_SLAB); // SuperSlab SA: full, stays live
    const b = mallocN(heap, C15, 3 * C15_PER_SLAB); // SuperSlab SB: 3 of its 16 slots claimed
    assert.equal(heap.stats().superslabs, 2);
    for (const p of b) heap.free(p);
    heap.trim();
    const st = heap.stats();
    assert.deepEqual(
      { superslabs: st.superslabs, superslab_completely_empty: st.pool.superslab_completely_empty },
      { superslabs: 1, superslab_completely_empty: 1 },
      `every claimed slot of SB is EMPTY (slot_release ${st.pool.slot_release}), SA is still live, yet SB was not given back; ` +
        `trace tail: ${JSON.stringify(lines.slice(-3))}`,
    );
    heap.check();
  });
});

describe('shared pool: trace output', () => {
  /** Every acquire stage and release path in one run, in a 16 MiB heap of 1 MiB SuperSlabs SA, SB. */
  function everyPath(heap: Heap): void {
    const x = mallocN(heap, C14, C14_PER_SLAB); // STAGE3 (SA), class 14 fills its slab
    const y = heap.malloc(C15); // STAGE2
    heap.free(y);
    heap.trim(); // y's slab: SLOT_RELEASE + SLOT_FREELIST
    const x2 = heap.malloc(C14); // STAGE0.5_EMPTY: y's slot, now class 14
    const a = mallocN(heap, C15, 14 * C15_PER_SLAB); // 14 x STAGE2: SA fully claimed
    const b = mallocN(heap, C15, 1); // STAGE3 (SB)
    const [s0, s1] = bySlab(a);
    for (const p of s0) heap.free(p); // -> L0
    for (const p of s1) heap.free(p); // SLOT_RELEASE + SLOT_FREELIST
    const z = heap.malloc(500); // class 13 (512-byte blocks): STAGE0_L0
    b.push(...mallocN(heap, C15, C15_PER_SLAB - 1));
    const w = heap.malloc(C15); // STAGE1_LOCKFREE (s1)
    for (const p of [...x, x2, ...a.slice(2 * C15_PER_SLAB), z, w]) heap.free(p); // SA holds nothing now
    heap.trim(); // SA's last slot released: SLOT_COMPLETELY_EMPTY
    assert.equal(heap.stats().superslabs, 1);
    for (const p of b) heap.free(p);
  }

  it('the debug build with poolTrace logs one tagged line per pool event, matching the counters', () => {
    const { heap, lines } = scenarioHeap();
    everyPath(heap);
    const st = heap.stats().pool;
    const seen = tags(lines);
    for (const [stage, tag] of Object.entries(TAGS) as [keyof Pool, string][]) {
      assert.ok(st[stage] > 0, `scenario did not reach ${stage}: ${JSON.stringify(st)}`);
      assert.equal(seen.filter((t) => t === tag).length, st[stage], `${tag} lines vs pool.${stage}`);
    }
    heap.check();
  });

  it('the release build with poolTrace logs nothing (the counters still count)', () => {
    const debug = scenarioHeap();
    everyPath(debug.heap);
    const release = scenarioHeap({ build: 'release' });
    everyPath(release.heap);
    assert.deepEqual(release.lines, []);
    assert.deepEqual(release.heap.stats().pool, debug.heap.stats().pool);
    assert.ok(debug.lines.length > 0);
    release.heap.check();
  });

  it('the debug build without poolTrace logs nothing', () => {
    const { heap, lines } = scenarioHeap({ poolTrace: false });
    everyPath(heap);
    assert.deepEqual(lines, []);
    assert.ok(heap.stats().pool.stage2_lockfree > 0);
  });
});
