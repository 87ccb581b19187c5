/**
 * Abandoned slabs (lib/alloc/abandoned.ts): a detached thread's slabs with blocks still to give are
 * taken up by the next thread that needs their class, before it asks the pool for a slab; a slab
 * adopted through the orphans' pending stack instead leaves its abandoned list; check() refuses
 * lists that disagree with the slabs' flags and owners.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attachHeap, createHeap, type HeapStats } from '../lib';
import { FLAG_ABANDONED, H, P, PAGE_SHIFT } from '../lib/alloc/layout';

const MiB = 1 << 20;
const pageOf = (p: number) => (p - 1) >>> PAGE_SHIFT;
const slabsTaken = (s: HeapStats) =>
  s.pool.stage0_l0 + s.pool.stage0_5_empty + s.pool.stage1_lockfree + s.pool.stage2_lockfree + s.pool.stage3_new_superslab;

describe('abandoned slabs', () => {
  it('the next thread carries on in a detached thread\'s partly used slab instead of taking a new one', () => {
    const heap = createHeap({ tinySlabAfterBytes: 0, shared: true, bytes: 16 * MiB });
    const first = attachHeap(heap.handle());
    const kept = Array.from({ length: 10 }, () => first.malloc(100));
    const page = pageOf(kept[0]);
    assert.ok(kept.every((p) => pageOf(p) === page), 'all in one slab');
    const cls = heap.mem.i32[heap.mem.meta(page) + P.CLASS];
    first.detach();
    heap.check();
    assert.equal(heap.mem.i32[H.ABANDONED + cls], page, 'the slab is on its class\'s abandoned list');
    assert.equal(heap.mem.i32[heap.mem.meta(page) + P.OWNER], 0);

    const second = attachHeap(heap.handle());
    const before = heap.stats();
    const p = second.malloc(100);
    const after = heap.stats();
    second.detach();
    assert.equal(pageOf(p), page, 'served from the abandoned slab');
    assert.equal(after.counters.adopted_abandoned - before.counters.adopted_abandoned, 0, 'counted when the thread detaches');
    const merged = heap.stats();
    assert.equal(merged.counters.adopted_abandoned, 1);
    assert.equal(slabsTaken(merged), 1, `one slab taken from the pool in all: ${JSON.stringify(merged.pool)}`);
    heap.check();
    // The block of the second thread and those of the first are freed by a third (remote frees into an ownerless slab).
    for (const q of [...kept, p]) heap.free(q);
    heap.trim();
    heap.check();
    assert.equal(heap.mem.i32[H.ABANDONED + cls], 0, 'nothing left on the list once the slab is empty');
  });

  it('a full slab is not listed: it has nothing to give', () => {
    const heap = createHeap({ tinySlabAfterBytes: 0, shared: true, bytes: 16 * MiB });
    const t = attachHeap(heap.handle());
    const page = pageOf(t.malloc(1000));
    // Fill the slab: every block carved and handed out (the rest of the refill batch sits in t's cache).
    for (;;) {
      const q = t.malloc(1000);
      if (pageOf(q) !== page) {
        t.free(q);
        break;
      }
    }
    const cls = heap.mem.i32[heap.mem.meta(page) + P.CLASS];
    t.detach();
    heap.check();
    const meta = heap.mem.meta(page);
    assert.equal(heap.mem.i32[meta + P.USED], heap.mem.i32[meta + P.CAPACITY], 'full');
    assert.equal(heap.mem.i32[meta + P.FLAGS] & FLAG_ABANDONED, 0);
    assert.notEqual(heap.mem.i32[H.ABANDONED + cls], page);
  });

  it('a slab adopted through the orphans\' pending stack leaves its abandoned list', () => {
    const heap = createHeap({ tinySlabAfterBytes: 0, shared: true, bytes: 16 * MiB });
    const first = attachHeap(heap.handle());
    const a = first.malloc(100);
    const b = first.malloc(100);
    const page = pageOf(a);
    const cls = heap.mem.i32[heap.mem.meta(page) + P.CLASS];
    first.detach();
    assert.equal(heap.mem.i32[H.ABANDONED + cls], page);
    // A remote free makes it an orphan on the pending stack; trim() adopts the orphans.
    heap.free(a);
    heap.trim();
    heap.check();
    assert.equal(heap.mem.i32[H.ABANDONED + cls], 0, 'off the list');
    assert.equal(heap.mem.i32[heap.mem.meta(page) + P.OWNER], heap.tid);
    assert.equal(heap.mem.i32[heap.mem.meta(page) + P.FLAGS] & FLAG_ABANDONED, 0);
    const st = heap.stats();
    assert.equal(st.counters.adopted_slabs, 1);
    assert.equal(st.counters.adopted_abandoned, 0);
    heap.free(b);
    heap.check();
  });

  it('check() refuses an abandoned list that disagrees with the slabs', () => {
    const heap = createHeap({ tinySlabAfterBytes: 0, shared: true, bytes: 16 * MiB });
    const first = attachHeap(heap.handle());
    const p = first.malloc(100);
    const page = pageOf(p);
    const meta = heap.mem.meta(page);
    const cls = heap.mem.i32[meta + P.CLASS];
    first.detach();
    heap.check();

    heap.mem.i32[meta + P.FLAGS] &= ~FLAG_ABANDONED;
    assert.throws(() => heap.check(), new RegExp(`class ${cls} abandoned list holds slab ${page}, not flagged abandoned`));
    heap.mem.i32[meta + P.FLAGS] |= FLAG_ABANDONED;

    heap.mem.i32[meta + P.OWNER] = 7;
    assert.throws(() => heap.check(), new RegExp(`class ${cls} abandoned list holds slab ${page}, owned by thread 7`));
    heap.mem.i32[meta + P.OWNER] = 0;

    heap.mem.i32[H.ABANDONED + cls] = 0;
    assert.throws(() => heap.check(), /1 slabs are flagged abandoned, 0 are on the abandoned lists/);
    heap.mem.i32[H.ABANDONED + cls] = page;
    heap.check();
  });
});
