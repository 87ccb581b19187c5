/**
 * Workers that end badly on a shared heap (lib/alloc/thread-exit.ts, create-heap.ts):
 *  - a worker that throws mid-run (its exit hook still runs) and one killed by worker.terminate()
 *    while it holds live blocks and blocks in its front caches: the main thread's
 *    heap.reclaimThread(tid) recovers what the dead thread held, check() passes, the main thread frees
 *    the blocks it left live (their pointers were in a shared array; contents are checked first),
 *    trims, heapBytes falls back, and a new worker can attach and fill the whole heap again;
 *  - a worker that ends normally without detach(): its caches and its counters are handed back
 *    (the seed lost thread-local counters at exit);
 *  - a terminated worker's cached mid blocks are reclaimable too, and (preset compact) the blocks its
 *    coalescing tier's cache held;
 *  - a slab that the dead thread's remote frees empty is released once (it was released twice, and
 *    its blocks handed out to two threads at once).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { attachHeap, createHeap, type Heap, type PresetName } from '../lib';
import { walkCoalescing } from '../lib/alloc/coalescing';
import { P } from '../lib/alloc/layout';
import type { DeathJob, DeathMessage, DeathTask } from './fixtures/threads-death-worker';
import { describeMismatch, patternMismatch } from './fixtures/threads-pattern';
import { fixture, messageOf, runWorker, settle, startWorker, type WorkerOutcome } from './fixtures/threads-spawn';

const KiB = 1024;
const MiB = 1024 * KiB;
const OPTIONS = { tinySlabAfterBytes: 0, shared: true, bytes: 32 * MiB, fastStats: true } as const;
const SUPERSLAB_BYTES = 2 * MiB; // the default
/** What a heap with nothing live may still hold: one SuperSlab (its smallest SuperSlab cache) and a little more. */
const SMALL = SUPERSLAB_BYTES + 256 * KiB;
const WORKER = fixture('threads-death-worker.ts');
const FILL_SIZE = 1000;

function job(heap: Heap, task: DeathTask, seed: number, extra: Partial<DeathJob> = {}): DeathJob {
  return {
    handle: heap.handle(), task, seed, live: new SharedArrayBuffer(4 * (1 + 3 * 300)), ops: 20_000,
    largePerMille: 40, midSize: 20_000, midBlocks: 8, fillSize: FILL_SIZE, ...extra,
  };
}

/** How many FILL_SIZE blocks a heap of OPTIONS holds when fresh (filled by the main thread). */
let freshFill = 0;
function freshFillCount(): number {
  if (freshFill === 0) {
    const heap = createHeap(OPTIONS);
    const ptrs: number[] = [];
    for (let p = heap.malloc(FILL_SIZE); p !== 0; p = heap.malloc(FILL_SIZE)) ptrs.push(p);
    for (const p of ptrs) heap.free(p);
    freshFill = ptrs.length;
  }
  return freshFill;
}

/** The blocks a worker left live, as it recorded them. */
function liveBlocks(j: DeathJob): { ptr: number; size: number; key: number }[] {
  const live = new Int32Array(j.live);
  return Array.from({ length: Atomics.load(live, 0) }, (_, k) => ({ ptr: live[1 + 3 * k], size: live[2 + 3 * k], key: live[3 + 3 * k] }));
}

/** Frees blocks a dead worker left live, after checking their contents. */
function freeBlocks(heap: Heap, blocks: { ptr: number; size: number; key: number }[]): void {
  for (const b of blocks) {
    const bad = patternMismatch(heap.u8, b.ptr, b.size, b.key);
    assert.equal(bad, -1, `block ${b.ptr} (${b.size} bytes) changed after its thread died: ${bad >= 0 ? describeMismatch(heap.u8, b.ptr, b.size, b.key, bad) : ''}`);
    heap.free(b.ptr);
  }
}

type Holding = Extract<DeathMessage, { type: 'holding' }>;

/** Starts a worker and resolves once it reports what it holds (with the worker, still running or not). */
async function untilHolding(j: DeathJob): Promise<{ worker: Worker; holding: Holding; outcome: Promise<WorkerOutcome<DeathMessage>> }> {
  const worker = startWorker(WORKER, j);
  let resolveFirst!: (m: DeathMessage) => void;
  const firstMessage = new Promise<DeathMessage>((r) => (resolveFirst = r));
  const outcome = settle<DeathMessage>(worker, (m) => resolveFirst(m));
  const first = await Promise.race([firstMessage, outcome.then((o) => messageOf(o, 'holding'))]);
  if (first.type === 'failed') assert.fail(`worker failed: ${first.error}`);
  assert.equal(first.type, 'holding', 'the first message reports what the worker holds');
  return { worker, holding: first as Holding, outcome };
}

/** After everything is freed: the heap is consistent, small again, and a new worker can fill all of it. */
async function assertAllReclaimable(heap: Heap, what: string): Promise<void> {
  heap.trim();
  heap.check();
  const st = heap.stats();
  assert.equal(st.liveThreads, 1, `${what}: only the main thread should be attached`);
  assert.ok(
    st.heapBytes <= SMALL,
    `${what}: heapBytes ${st.heapBytes} after freeing everything and trim() (allowed ${SMALL}; peak ${st.peakHeapBytes}, mapped ${st.mappedBytes}, superslabs ${st.superslabs})`,
  );
  const out = await runWorker<DeathMessage>(WORKER, job(heap, 'fill', 0));
  const filled = messageOf(out, 'filled');
  assert.equal(out.exitCode, 0);
  assert.equal(filled.count, freshFillCount(), `${what}: a new worker filled ${filled.count} blocks of ${FILL_SIZE} bytes, a fresh heap holds ${freshFillCount()}`);
  heap.check();
}

describe('worker death on a shared heap', () => {
  it('a worker that throws mid-run: its blocks and caches come back, a new worker can fill the heap', async () => {
    const heap = createHeap(OPTIONS);
    const j = job(heap, 'throw', 11);
    const out = await runWorker<DeathMessage>(WORKER, j);
    const h = messageOf(out, 'holding');
    assert.equal(out.exitCode, 1);
    assert.match(out.error?.message ?? '', /planned failure/);
    assert.ok(h.live > 0 && h.cached > 0, `the worker should die holding live and cached blocks (live ${h.live}, cached ${h.cached})`);

    const recovered = heap.reclaimThread(h.tid);
    // The worker's exit hook ran (an uncaught error still exits the thread normally): it detached and
    // gave its caches back itself, so there is nothing left to reclaim; without the hook, reclaim gets them.
    assert.ok(recovered === 0 || recovered === h.cached, `reclaimThread recovered ${recovered}, the worker held ${h.cached} cached blocks`);
    heap.check();
    assert.equal(heap.stats().liveThreads, 1);

    const blocks = liveBlocks(j);
    assert.equal(blocks.length, h.live);
    freeBlocks(heap, blocks);
    heap.check();
    await assertAllReclaimable(heap, 'after a worker threw');
  });

  it('a terminated worker holding cached blocks: reclaimThread(tid) recovers them, a new worker can fill the heap', async () => {
    const heap = createHeap(OPTIONS);
    const j = job(heap, 'terminate', 12);
    const { worker, holding: h, outcome } = await untilHolding(j);
    assert.ok(h.live > 0 && h.cached > 0, `the worker should hold live and cached blocks (live ${h.live}, cached ${h.cached})`);
    const blocks = liveBlocks(j);
    assert.equal(blocks.length, h.live);
    const half = blocks.length >> 1;
    // Half of its live blocks are freed while it still runs (remote frees it never drains) ...
    freeBlocks(heap, blocks.slice(0, half));
    await worker.terminate();
    const o = await outcome;
    assert.equal(o.exitCode, 1);
    assert.equal(heap.stats().liveThreads, 2, 'a terminated worker stays attached until it is reclaimed');

    const recovered = heap.reclaimThread(h.tid);
    assert.equal(recovered, h.cached, 'reclaimThread returns the number of blocks the dead thread had cached');
    assert.equal(heap.stats().liveThreads, 1);
    assert.equal(heap.reclaimThread(h.tid), 0, 'a second reclaim finds nothing');
    heap.check();
    // ... the other half after it was reclaimed.
    freeBlocks(heap, blocks.slice(half));
    heap.check();
    await assertAllReclaimable(heap, 'after a worker was terminated');
  });

  it('a worker that returns without detach(): its caches and counters are merged into the heap when it exits', async () => {
    const heap = createHeap(OPTIONS);
    const before = heap.stats().counters;
    const j = job(heap, 'return', 13);
    const out = await runWorker<DeathMessage>(WORKER, j);
    const h = messageOf(out, 'holding');
    assert.equal(out.exitCode, 0);
    assert.ok(h.cached > 0 && h.own.header_fast > 0 && h.own.refills > 0, `the worker should have counted and cached: ${JSON.stringify(h)}`);

    const st = heap.stats();
    assert.equal(st.liveThreads, 1, 'the worker detached itself at exit');
    const lost = Object.entries(h.own)
      .filter(([name, v]) => st.counters[name as keyof typeof st.counters] - before[name as keyof typeof before] < v)
      .map(([name, v]) => `${name}: worker counted ${v}, heap gained ${st.counters[name as keyof typeof st.counters] - before[name as keyof typeof before]}`);
    assert.deepEqual(lost, [], "the worker's counters must be visible in the main thread's stats() after it exits");
    assert.ok(
      st.counters.spill_blocks - before.spill_blocks >= h.own.spill_blocks + h.cached,
      `its ${h.cached} cached blocks should have been flushed back at exit (spill_blocks ${before.spill_blocks} -> ${st.counters.spill_blocks})`,
    );
    assert.equal(heap.reclaimThread(h.tid), 0, 'nothing left to reclaim');
    heap.check();
    freeBlocks(heap, liveBlocks(j));
    await assertAllReclaimable(heap, 'after a worker returned without detach()');
  });

  it("a terminated worker's cached mid blocks are reclaimable too", async () => {
    const heap = createHeap(OPTIONS);
    const j = job(heap, 'mid-cache', 14);
    const { worker, holding, outcome } = await untilHolding(j);
    await worker.terminate();
    await outcome;
    heap.reclaimThread(holding.tid);
    heap.check();
    const mapped = heap.stats().mappedBytes;
    // The dead worker freed its 8 mid blocks into its own mid list: the same 8 must be reusable now.
    const again = Array.from({ length: j.midBlocks }, () => heap.malloc(j.midSize));
    assert.ok(!again.includes(0));
    assert.equal(
      heap.stats().mappedBytes,
      mapped,
      `malloc(${j.midSize}) x ${j.midBlocks} after reclaimThread mapped new pages: the ${j.midBlocks} free mid blocks the dead worker had cached were not recovered`,
    );
    for (const p of again) heap.free(p);
    heap.check();
  });

  it("compact: a terminated worker's coalescing cache goes back to the tier on reclaimThread", async () => {
    const heap = createHeap({ ...OPTIONS, preset: 'compact' });
    const j = job(heap, 'mid-cache', 15, { midSize: 500 }); // 500 bytes: blocks its cache keeps
    const { worker, holding, outcome } = await untilHolding(j);
    await worker.terminate();
    await outcome;
    const recovered = heap.reclaimThread(holding.tid);
    assert.ok(recovered >= j.midBlocks, `reclaimThread recovered ${recovered} blocks, the worker cached at least ${j.midBlocks}`);
    heap.check();
    heap.trim();
    let blocks = 0;
    walkCoalescing(heap.mem, { block: () => void blocks++ });
    assert.equal(blocks, 0, 'nothing is live: every block of the coalescing tier went back');
  });

  describe('reclaimThread releases a slab that remote frees emptied once', () => {
    // A dead thread is played by a second handle on the main thread (attachHeap), which never detaches.
    /** Live pointers of 3000 40-byte mallocs from each of two threads, any handed out twice. */
    function handedOutTwice(a: Heap, b: Heap): number[] {
      const seen = new Set<number>();
      const twice: number[] = [];
      for (let i = 0; i < 3000; i++) {
        for (const heap of [a, b]) {
          const p = heap.malloc(40);
          if (seen.has(p)) twice.push(p);
          seen.add(p);
        }
      }
      return twice;
    }

    for (const preset of ['current', 'phase7', 'aligned'] as PresetName[]) {
      it(`${preset}: the slab's only block freed by another thread after the dead thread's trim`, () => {
        const main = createHeap({ ...OPTIONS, preset });
        const dead = attachHeap(main.handle());
        const p = dead.malloc(40);
        dead.trim(); // its front lists and current slab go back: the slab holds p only
        main.free(p); // a remote free, pending on the dead thread
        main.reclaimThread(dead.tid);
        main.check();
        const next = attachHeap(main.handle());
        assert.deepEqual(handedOutTwice(main, next), []);
        main.check();
      });
    }

    it("check() refuses a thread's L0 slab that the pool holds as empty too (what the second release left)", () => {
      const heap = createHeap({ ...OPTIONS, preset: 'current' });
      const blocks = Array.from({ length: 3000 }, () => heap.malloc(40));
      heap.malloc(100);
      for (const p of blocks) heap.free(p);
      heap.flushFrontCaches(); // the emptied slab goes to the thread's L0 slot
      assert.notEqual(heap.l0Slab, 0);
      heap.check();
      heap.mem.i32[heap.mem.meta(heap.l0Slab) + P.OWNER] = 0; // as releaseSlot leaves a slab it gives the pool
      assert.throws(() => heap.check(), { code: 'HEAP_CORRUPT', message: new RegExp(`L0 slab ${heap.l0Slab}: .*owner 0`) });
    });

    it("current: a slab left partly used by the dead thread's refills, emptied by a remote free", () => {
      const main = createHeap({ ...OPTIONS, preset: 'current' });
      const dead = attachHeap(main.handle());
      dead.free(dead.malloc(700));
      const p = dead.malloc(40);
      dead.malloc(300); // a never-used slab claimed last: the dead thread's front lists go back first, p's slab holds p only
      main.free(p);
      main.check();
      main.reclaimThread(dead.tid);
      main.check(); // counted 1 active slot of the SuperSlab and found 2
      const next = attachHeap(main.handle());
      assert.deepEqual(handedOutTwice(main, next), []);
      main.check();
    });
  });
});
