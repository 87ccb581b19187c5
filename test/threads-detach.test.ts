/**
 * No block lost on detach: a remote free that races its owner's detach must reach a live owner or
 * the orphans, never wait on the stack of a thread that is gone.
 *
 * The race, deterministically: a remote free reads the slab's owner, the owner detaches, then the
 * free puts the slab on that owner's pending stack. Then under oversubscription: 8 workers (on a
 * machine with fewer cores) detach and attach again round after round while the others free into
 * their slabs (test/fixtures/threads-detach-worker.ts). Checked: after every round no free thread id
 * holds pending slabs; at the end every slab's blocks are accounted for (freelist + remote stack +
 * live = carved, no block twice), every free was counted on one route, every remote free was drained
 * after trim(), and after freeing everything no slab is left.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attachHeap, createHeap, type Heap } from '../lib';
import { linkWord } from '../lib/alloc/header';
import { KIND_SLAB, P, PAGE_SHIFT, pendingWord, SLOT_ACTIVE } from '../lib/alloc/layout';
import { pushPending } from '../lib/alloc/remote-free';
import { CTL } from './fixtures/threads-stress-shared';
import { fixture, runWorker } from './fixtures/threads-spawn';
import type { DetachJob, DetachMessage } from './fixtures/threads-detach-worker';

const MiB = 1 << 20;

/** Blocks of a list threaded through link words, from `head`. */
function listBlocks(heap: Heap, head: number, limit: number): number[] {
  const out: number[] = [];
  for (let b = head; b !== 0; b = heap.i32[linkWord(b)]) {
    out.push(b);
    if (out.length > limit) throw new Error(`list from ${head} is longer than ${limit} (cycle?)`);
  }
  return out;
}

/**
 * Every ACTIVE slab: its freelist, its remote stack and the live blocks in it together are exactly
 * its carved blocks, each once. Only while no thread caches blocks (every worker detached).
 */
function accountSlabs(heap: Heap, live: number[]): string[] {
  const m = heap.mem;
  const liveBySlab = new Map<number, number[]>();
  for (const p of live) {
    const page = (p - 1) >>> PAGE_SHIFT;
    liveBySlab.set(page, [...(liveBySlab.get(page) ?? []), p - 1]);
  }
  const problems: string[] = [];
  for (let page = m.layout.metaPages; page < m.layout.pages; page++) {
    const meta = m.meta(page);
    if (m.i32[meta + P.KIND] !== KIND_SLAB || m.i32[meta + P.STATE] !== SLOT_ACTIVE || m.i32[meta + P.CLASS] < 0) continue;
    const carved = m.i32[meta + P.CARVED];
    const free = listBlocks(heap, m.i32[meta + P.FREELIST], carved);
    const remote = listBlocks(heap, m.i32[meta + P.REMOTE_HEAD], carved);
    const mine = liveBySlab.get(page) ?? [];
    const all = [...free, ...remote, ...mine];
    const distinct = new Set(all).size;
    if (all.length !== carved || distinct !== carved)
      problems.push(`slab ${page} (owner ${m.i32[meta + P.OWNER]}): ${free.length} free + ${remote.length} remote + ${mine.length} live (${distinct} distinct) != ${carved} carved`);
  }
  return problems;
}

describe('detach and remote free agree: no block is lost on detach', () => {
  it('a remote free that read its owner before the owner detached reaches the orphans (deterministic interleaving)', () => {
    const heap = createHeap({ tinySlabAfterBytes: 0, shared: true, bytes: 16 * MiB, fastStats: true });
    const owner = attachHeap(heap.handle());
    const p = owner.malloc(100);
    const q = owner.malloc(100);
    const page = (p - 1) >>> PAGE_SHIFT;
    assert.equal((q - 1) >>> PAGE_SHIFT, page, 'both blocks in one slab');
    // The remote free pushes its block and tells the owner ...
    heap.free(p);
    assert.equal(Atomics.load(heap.i32, pendingWord(owner.tid)), page);
    // ... but replayed in the racing order: the slab is not yet on the owner's pending stack when the owner detaches,
    Atomics.store(heap.i32, pendingWord(owner.tid), 0);
    const tid = owner.tid;
    owner.detach();
    // and gets there only afterwards, with the owner it read before.
    pushPending(heap, page, tid);
    assert.equal(Atomics.load(heap.i32, pendingWord(tid)), 0, "nothing waits on the gone thread's pending stack");
    heap.check();
    heap.trim();
    const st = heap.stats();
    assert.equal(st.counters.remote_drained, st.counters.remote_free, `every remote free drained: ${JSON.stringify(st.counters)}`);
    assert.equal(st.counters.adopted_slabs, 1, 'the orphaned slab was adopted');
    heap.free(q);
    heap.trim();
    heap.check();
    assert.deepEqual(accountSlabs(heap, []), []);
    assert.equal(heap.stats().mappedBytes, heap.stats().superslabs * 2 * MiB, 'only the kept SuperSlab is left');
  });

  it('check() refuses a free thread id with pending slabs', () => {
    const heap = createHeap({ shared: true, bytes: 16 * MiB });
    const other = attachHeap(heap.handle());
    const p = other.malloc(40);
    const tid = other.tid;
    other.detach();
    Atomics.store(heap.i32, pendingWord(tid), (p - 1) >>> PAGE_SHIFT); // what the old protocol could leave behind
    assert.throws(() => heap.check(), /thread id \d+ is free, but slab \d+ waits on its pending stack/);
  });

  const W = 8;
  const job = { workers: W, rounds: 24, ops: 100_000, slots: 64, seed: 11 };
  it(`${W} workers detach and attach again ${job.rounds} times while the others free into their slabs: every block accounted for`, { timeout: 60_000 }, async () => {
    const heap = createHeap({ shared: true, bytes: 64 * MiB, fastStats: true });
    const box = new SharedArrayBuffer(W * job.slots * 4);
    const control = new SharedArrayBuffer(CTL.WORDS * 4);
    const outcomes = await Promise.all(
      Array.from({ length: W }, (_, index) =>
        runWorker<DetachMessage>(fixture('threads-detach-worker.ts'), { ...job, index, handle: heap.handle(), box, control } satisfies DetachJob)),
    );
    const failed = outcomes.flatMap((o) => [
      ...o.messages.filter((m) => m.type === 'failed').map((m) => (m as { error: string }).error),
      ...(o.error ? [String(o.error.stack)] : []),
    ]);
    assert.deepEqual(failed, [], 'workers failed');
    const done = outcomes.map((o) => o.messages.find((m) => m.type === 'done') as Extract<DetachMessage, { type: 'done' }>);
    assert.ok(done.every(Boolean), 'every worker reported');
    assert.deepEqual(done.flatMap((d) => d.stranded), [], 'after each round, no free thread id holds pending slabs');
    const mallocs = done.reduce((a, d) => a + d.mallocs, 0);
    const frees = done.reduce((a, d) => a + d.frees, 0);
    const live = Array.from(new Int32Array(box)).filter((p) => p !== 0);
    assert.equal(live.length, mallocs - frees, 'the box holds every block not freed');

    assert.equal(heap.stats().liveThreads, 1, 'every worker detached');
    assert.deepEqual(accountSlabs(heap, live), [], 'before trim: freelist + remote stack + live = carved');
    heap.check();
    const st = heap.stats();
    const routed = st.routes.header_fast! + st.routes.ss_hit + st.routes.mid! + st.routes.large + st.routes.remote;
    assert.equal(routed, frees, `each free counted on exactly one route: ${JSON.stringify(st.routes)}`);
    assert.ok(st.routes.remote > frees / 2, `most frees are remote: ${JSON.stringify(st.routes)}`);
    heap.trim();
    const after = heap.stats();
    assert.equal(after.counters.remote_drained, after.counters.remote_free, 'after trim() every remote free reached its owner or the orphans and was drained');
    assert.deepEqual(accountSlabs(heap, live), [], 'after trim: freelist + live = carved');
    heap.check();
    for (const p of live) heap.free(p);
    heap.trim();
    heap.check();
    const left: number[] = [];
    for (let page = heap.mem.layout.metaPages; page < heap.mem.layout.pages; page++) {
      const meta = heap.mem.meta(page);
      if (heap.i32[meta + P.KIND] === KIND_SLAB && heap.i32[meta + P.STATE] === SLOT_ACTIVE) left.push(page);
    }
    assert.deepEqual(left, [], 'after freeing everything and trim(), no slab is left ACTIVE');
    console.log(`threads-detach: ${W} workers x ${job.rounds} rounds, ${mallocs} mallocs, ${frees} frees (${st.routes.remote} remote), ${st.counters.adopted_slabs} slabs adopted`);
  });
});
