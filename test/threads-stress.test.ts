/**
 * Multi-threaded stress on one shared heap (createHeap({ shared: true, bytes: 64 MiB })): 2-4 workers
 * attached with attachHeap(heap.handle()) run seeded random mixes of malloc, calloc, alignedAlloc,
 * realloc and free (mostly tiny, some mid 1-52 KiB, few large up to 256 KiB, a very few to 1 MiB);
 * every block carries its allocating thread, a sequence number and a content pattern over all its
 * bytes; a share of the blocks is handed to another worker through a SharedArrayBuffer ring and freed
 * or reallocated there (remote frees; after the allocator detached, frees into orphaned slabs). Each worker also detaches
 * and attaches again as a new thread mid-run (its slabs become orphans the others free into) and
 * calls trim() while the others work. Besides the default heap, runs cover the SFC front (phase7),
 * free through the registry (phase7-ss-lookup), small front caches with 1 MiB SuperSlabs (slabs and
 * SuperSlabs come and go all the time), the debug build, and compact (the coalescing tier from 16
 * bytes behind its per-thread cache), release and debug.
 * See test/fixtures/threads-stress-worker.ts.
 *
 * Checked: every freer finds the block's pattern intact; workers run heap.check() at 1/4, 1/2, 3/4
 * and at the end (at barriers, while no thread changes the heap); after the workers joined, the main
 * thread finds exactly mallocs - frees live records, checks their contents, checks that no two live
 * blocks overlap (header byte to end of usable size), frees them all; then check() passes, every
 * worker's counters are merged (remote frees > 0, one free route counted per free, and at least one
 * adopted slab per orphan probe: at each mid-run check point one worker, while the others wait, frees
 * a block of its own slab after detaching and adopts the orphan), and after trim() heapBytes is
 * small again. The total op count is printed at the end.
 *
 * Fixed seeds and op counts; HAKMEM_STRESS_OPS (ops per worker), HAKMEM_STRESS_REBIRTHS (detach +
 * attach again per worker) and HAKMEM_STRESS_TRIMS (trim() calls per worker) change the run locally.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createHeap, type BuildMode, type Heap, type HeapOptions, type PresetName } from '../lib';
import { KIND_LARGE, KIND_MID, KIND_SLAB, P, SLOT_ACTIVE, TOUCH_SHIFT } from '../lib/alloc/layout';
import { describeMismatch, patternKey, patternMismatch, writePattern } from './fixtures/threads-pattern';
import { fixture, runWorker } from './fixtures/threads-spawn';
import {
  CTL, REC, REC_WORDS, RECORDS_PER_WORKER, RING_CAP, registryBytes, ringDrain, ringPush, ringsBytes, type StressCounts, type StressJob, type StressMessage,
} from './fixtures/threads-stress-shared';

const KiB = 1024;
const MiB = 1024 * KiB;
const OPS = Number(process.env.HAKMEM_STRESS_OPS ?? 500_000);
const REBIRTHS = Number(process.env.HAKMEM_STRESS_REBIRTHS ?? 2);
const TRIMS = Number(process.env.HAKMEM_STRESS_TRIMS ?? 4);
const WS = 200;
const PASS_PERCENT = 30;
const WORKER = fixture('threads-stress-worker.ts');

interface Run {
  seed: number;
  workers: number;
  preset: PresetName;
  build: BuildMode;
  ops: number;
  /** More heap options, e.g. a small front cache so slabs go back to the pool (and come again) all the time. */
  options?: HeapOptions;
  label?: string;
}

const RUNS: Run[] = [
  { seed: 1, workers: 2, preset: 'current', build: 'release', ops: OPS },
  { seed: 2, workers: 3, preset: 'current', build: 'release', ops: OPS },
  { seed: 3, workers: 4, preset: 'current', build: 'release', ops: OPS },
  { seed: 4, workers: 2, preset: 'phase7', build: 'release', ops: OPS }, // SFC + SLL front
  { seed: 5, workers: 2, preset: 'phase7-ss-lookup', build: 'release', ops: OPS }, // free through the registry
  {
    seed: 7, workers: 3, preset: 'current', build: 'release', ops: OPS, label: 'small caches, 1 MiB SuperSlabs',
    options: { frontCapacity: 8, refillCount: 4, superslabBytes: MiB }, // pool churn: slabs and SuperSlabs come and go
  },
  { seed: 6, workers: 2, preset: 'current', build: 'debug', ops: OPS >> 2 },
  {
    seed: 10, workers: 3, preset: 'current', build: 'release', ops: OPS >> 1, label: 'tiny blocks in the coalescing tier',
    // Every tiny class's first 1 MiB in coalescing blocks, small lists: such blocks spill back to the tier all the time.
    options: { tinySlabAfterBytes: MiB, frontCapacity: 8, refillCount: 4 },
  },
  {
    seed: 11, workers: 2, preset: 'current', build: 'debug', ops: OPS >> 3, label: 'tiny blocks in the coalescing tier, debug',
    options: { tinySlabAfterBytes: MiB, frontCapacity: 8, refillCount: 4 },
  },
  { seed: 8, workers: 3, preset: 'compact', build: 'release', ops: OPS }, // remote frees land in the freeing thread's cache
  { seed: 9, workers: 2, preset: 'compact', build: 'debug', ops: OPS >> 2 },
];

interface RunResult {
  name: string;
  ops: number;
  heapBytesAfter: number;
  peakHeapBytes: number;
  mappedBytesAfter: number;
  superslabsAfter: number;
  /** Where heapBytesAfter is: touched bytes of SuperSlab slabs, mid spans and large blocks. */
  touched: Touched;
  /** Slabs still ACTIVE (serving a class for an owner, or orphaned) although nothing is live. */
  activeSlabs: { page: number; owner: number; used: number; remote: number }[];
}

interface Touched {
  slab: number;
  mid: number;
  large: number;
}

/** Slabs in state ACTIVE, read from the heap's page metadata. */
function activeSlabs(heap: Heap): RunResult['activeSlabs'] {
  const m = heap.mem;
  const out: RunResult['activeSlabs'] = [];
  for (let page = m.layout.metaPages; page < m.layout.pages; page++) {
    const meta = m.meta(page);
    if (m.i32[meta + P.KIND] === KIND_SLAB && m.i32[meta + P.STATE] === SLOT_ACTIVE) {
      out.push({ page, owner: m.i32[meta + P.OWNER], used: m.i32[meta + P.USED], remote: remoteStackLength(m.i32, m.i32[meta + P.REMOTE_HEAD]) });
    }
  }
  return out;
}

/** Blocks on a slab's remote stack (link word at byte 4 of each block). */
function remoteStackLength(i32: Int32Array, head: number): number {
  let n = 0;
  for (let b = head; b !== 0 && n < 1 << 16; b = i32[(b >> 2) + 1]) n++;
  return n;
}

/** Diagnostics: the heap's touched bytes by the kind of page holding them (read from its page metadata). */
function touchedByKind(heap: Heap): Touched {
  const m = heap.mem;
  const t: Touched = { slab: 0, mid: 0, large: 0 };
  for (let page = 0; page < m.layout.pages; page++) {
    const meta = m.meta(page);
    const bytes = m.i32[meta + P.TOUCHED] << TOUCH_SHIFT;
    const kind = m.i32[meta + P.KIND];
    if (kind === KIND_SLAB) t.slab += bytes;
    else if (kind === KIND_MID) t.mid += bytes;
    else if (kind === KIND_LARGE) t.large += bytes;
  }
  return t;
}

let totalOps = 0;
const results: RunResult[] = [];

interface Live {
  rec: number;
  ptr: number;
  size: number;
  thread: number;
  seq: number;
}

/** Every live record of the registry. */
function liveRecords(reg: Int32Array, workers: number): Live[] {
  const out: Live[] = [];
  for (let rec = 0; rec < workers * RECORDS_PER_WORKER; rec++) {
    const w = rec * REC_WORDS;
    if (reg[w + REC.PTR] !== 0) out.push({ rec, ptr: reg[w + REC.PTR], size: reg[w + REC.SIZE], thread: reg[w + REC.THREAD], seq: reg[w + REC.SEQ] });
  }
  return out;
}

interface Span {
  b: Live;
  lo: number;
  hi: number;
}

/** The first overlap among spans [lo, hi), or null. */
function findOverlap(spans: Span[]): string | null {
  const sorted = [...spans].sort((x, y) => x.lo - y.lo);
  for (let k = 1; k < sorted.length; k++) {
    const [a, b] = [sorted[k - 1], sorted[k]];
    if (a.hi > b.lo) {
      return `live blocks overlap: ${a.b.ptr} [${a.lo}, ${a.hi}) of worker ${a.b.thread} #${a.b.seq} and ${b.b.ptr} [${b.lo}, ${b.hi}) of worker ${b.b.thread} #${b.b.seq}`;
    }
  }
  return null;
}

/** No two live blocks overlap, from the header byte to the end of the usable size. */
function assertNoOverlap(heap: Heap, live: Live[]): void {
  const spans = live.map((b) => ({ b, lo: b.ptr - 1, hi: b.ptr + heap.usableSize(b.ptr) }));
  for (const s of spans) {
    assert.ok(s.hi - s.b.ptr >= s.b.size, `block ${s.b.ptr}: usableSize ${s.hi - s.b.ptr} < ${s.b.size} requested`);
    assert.ok(s.lo >= 0 && s.hi <= heap.mem.config.bytes, `block ${s.b.ptr} lies outside the heap`);
  }
  assert.equal(findOverlap(spans), null);
}

async function stress(run: Run): Promise<void> {
  const name = `seed ${run.seed}, ${run.workers} workers, ${run.preset}/${run.build}${run.label ? `, ${run.label}` : ''}`;
  // fastStats: every route is counted, so the merged counters can account for every free.
  const heap = createHeap({ ...run.options, shared: true, bytes: 64 * MiB, preset: run.preset, build: run.build, fastStats: true });
  const registry = new SharedArrayBuffer(registryBytes(run.workers));
  const rings = new SharedArrayBuffer(ringsBytes(run.workers));
  const control = new SharedArrayBuffer(CTL.WORDS * 4);
  const outcomes = await Promise.all(
    Array.from({ length: run.workers }, (_, index) => {
      const job: StressJob = {
        handle: heap.handle(), index, workers: run.workers, seed: run.seed, ops: run.ops, ws: WS, passPercent: PASS_PERCENT,
        rebirths: REBIRTHS, trims: TRIMS, registry, rings, control,
      };
      return runWorker<StressMessage>(WORKER, job);
    }),
  );
  const failures = outcomes.flatMap((o, i) => {
    const failed = o.messages.filter((m) => m.type === 'failed').map((m) => `worker ${i}: ${(m as { error: string }).error}`);
    if (o.error) failed.push(`worker ${i}: uncaught ${o.error.stack}`);
    if (!o.messages.some((m) => m.type === 'done') && failed.length === 0) failed.push(`worker ${i}: exited with code ${o.exitCode} without reporting`);
    return failed;
  });
  const real = failures.filter((f) => !f.includes('aborted: another worker failed'));
  assert.deepEqual(real.length ? real : failures, [], `${name}: workers failed`);
  const done = outcomes.map((o) => o.messages.find((m) => m.type === 'done') as Extract<StressMessage, { type: 'done' }>);

  const sum = (k: keyof StressCounts) => done.reduce((a, d) => a + d[k], 0);
  assert.ok(sum('passed') > 0 && sum('received') === sum('passed'), `${name}: every handed-over block arrives (passed ${sum('passed')}, received ${sum('received')})`);
  assert.ok(sum('mid') > 0 && sum('large') > 0 && sum('huge') > 0, `${name}: the mix has mid, large and huge blocks`);
  assert.ok(sum('callocs') > 0 && sum('aligned') > 0, `${name}: the mix has calloc (${sum('callocs')}) and alignedAlloc (${sum('aligned')}) blocks`);
  assert.ok(
    sum('reallocMoves') > 0 && sum('reallocMoves') < sum('reallocs') && sum('reallocsForeign') > 0,
    `${name}: reallocs moved blocks and kept others in place, also blocks of other workers (${sum('reallocs')} reallocs, ` +
      `${sum('reallocMoves')} moved, ${sum('reallocsForeign')} of another worker's blocks)`,
  );
  assert.equal(sum('checks'), 4 * run.workers, `${name}: each worker ran check() 4 times`);
  assert.equal(sum('rebirths'), run.workers * REBIRTHS, `${name}: each worker detached and attached again ${REBIRTHS} times`);
  assert.equal(sum('trims'), run.workers * TRIMS, `${name}: each worker trimmed ${TRIMS} times`);
  assert.equal(new Set(done.map((d) => d.tid)).size, run.workers, `${name}: each worker had its own thread id`);

  // Every block accounted for exactly once: the registry holds exactly the blocks not yet freed.
  heap.check();
  const live = liveRecords(new Int32Array(registry), run.workers);
  assert.equal(live.length, sum('mallocs') - sum('frees'), `${name}: live records vs mallocs ${sum('mallocs')} - frees ${sum('frees')}`);
  for (const b of live) {
    const key = patternKey(b.thread, b.seq);
    const bad = patternMismatch(heap.u8, b.ptr, b.size, key);
    assert.equal(bad, -1, `${name}: live block ${b.ptr} of worker ${b.thread} #${b.seq} changed: ${bad >= 0 ? describeMismatch(heap.u8, b.ptr, b.size, key, bad) : ''}`);
  }
  assertNoOverlap(heap, live);
  for (const b of live) heap.free(b.ptr);
  heap.check();

  const st = heap.stats();
  assert.equal(st.liveThreads, 1, `${name}: every worker detached`);
  assert.ok(st.routes.remote > 0, `${name}: remote frees happened (routes ${JSON.stringify(st.routes)})`);
  assert.equal(sum('probes'), 3, `${name}: the workers ran an orphan probe at each of the 3 mid-run check points`);
  assert.ok(st.counters.adopted_slabs >= sum('probes'), `${name}: orphaned slabs were adopted (${st.counters.adopted_slabs}, at least one per probe)`);
  // Each free takes exactly one route: the merged counters saw every free of every thread.
  const routed = st.routes.header_fast! + st.routes.ss_hit + st.routes.mid! + st.routes.large + st.routes.remote;
  assert.equal(routed, sum('frees') + live.length, `${name}: frees counted by the heap's routes ${JSON.stringify(st.routes)} vs frees done`);
  const lost = Object.keys(done[0].own).filter((k) => st.counters[k as keyof typeof st.counters] < done.reduce((a, d) => a + d.own[k], 0));
  assert.deepEqual(lost, [], `${name}: the workers' counters are merged into the heap's`);

  heap.trim();
  heap.check();
  const end = heap.stats();
  const ops = run.workers * run.ops;
  totalOps += ops;
  console.log(
    `threads-stress ${name}: ${ops} ops (${sum('mallocs')} mallocs; sizes drawn ${sum('tiny')} tiny, ${sum('mid')} mid, ${sum('large')} large (${sum('huge')} above 256 KiB); ` +
      `${sum('callocs')} calloc, ${sum('aligned')} aligned; ${sum('passed')} handed over; ${sum('reallocs')} reallocs, ${sum('reallocMoves')} moved, ` +
      `${sum('reallocsForeign')} of another worker's blocks), remote frees ${st.routes.remote}, adopted slabs ${st.counters.adopted_slabs}, ` +
      `heap bytes peak ${end.peakHeapBytes}, after free-all + trim() ${end.heapBytes}`,
  );
  results.push({
    name, ops, heapBytesAfter: end.heapBytes, peakHeapBytes: end.peakHeapBytes, mappedBytesAfter: end.mappedBytes, superslabsAfter: end.superslabs,
    touched: touchedByKind(heap), activeSlabs: activeSlabs(heap),
  });
}

describe(`threads stress: workers on one shared heap, remote frees through hand-over rings (${OPS} ops per worker)`, () => {
  after(() => console.log(`threads-stress: ${totalOps} operations in total over ${results.length} runs (seeds ${RUNS.map((r) => r.seed).join(', ')})`));

  for (const run of RUNS) {
    it(`seed ${run.seed}: ${run.workers} workers, ${run.preset}/${run.build}${run.label ? ` (${run.label})` : ''}, ${run.ops} ops each: blocks intact, none lost or doubled, check() passes`, { timeout: 120_000 }, async () => {
      await stress(run);
    });
  }

  // With nothing live the heap may keep one SuperSlab (its smallest SuperSlab cache) and a little more.
  const ALLOWED = 2 * MiB + 256 * KiB;
  const describeRun = (r: RunResult) =>
    `${r.name}: ${r.heapBytesAfter} bytes touched after free-all + trim() (allowed ${ALLOWED}; peak ${r.peakHeapBytes}, ` +
    `mapped ${r.mappedBytesAfter}, superslabs ${r.superslabsAfter}; touched in slabs ${r.touched.slab}, mid spans ${r.touched.mid}, large ${r.touched.large})`;

  // Runs that failed above are reported there; these two check every run that got as far as trim().
  it('after freeing every block and trim(), the tiny and large tiers have given their memory back (every run above)', () => {
    assert.ok(results.length > 0, 'no run above finished');
    assert.deepEqual(results.filter((r) => r.touched.slab + r.touched.large > ALLOWED).map(describeRun), []);
  });

  it('after freeing every block and trim(), no slab is left ACTIVE: no orphan stranded, every cache flushed (every run above)', () => {
    assert.ok(results.length > 0, 'no run above finished');
    assert.deepEqual(
      results.filter((r) => r.activeSlabs.length > 0).map((r) => `${r.name}: ACTIVE slabs ${JSON.stringify(r.activeSlabs.slice(0, 8))}${r.activeSlabs.length > 8 ? ` and ${r.activeSlabs.length - 8} more` : ''}`),
      [],
    );
  });

  it('after freeing every block and trim(), heapBytes returns to a small value (every run above)', () => {
    assert.ok(results.length > 0, 'no run above finished');
    assert.deepEqual(results.filter((r) => r.heapBytesAfter > ALLOWED).map(describeRun), []);
  });

  it("the test's own checks see a changed byte, an overlap and ring order (self-test)", () => {
    // Guards against checks that would pass whatever the allocator did.
    const heap = createHeap({ bytes: 4 * MiB });
    const p = heap.malloc(300);
    const key = patternKey(1, 2);
    writePattern(heap.u8, p, 300, key);
    assert.equal(patternMismatch(heap.u8, p, 300, key), -1);
    assert.notEqual(patternMismatch(heap.u8, p, 300, patternKey(1, 3)), -1, 'another tag has another pattern');
    heap.u8[p + 299] ^= 1;
    assert.equal(patternMismatch(heap.u8, p, 300, key), 299);
    const b = (ptr: number): Live => ({ rec: 0, ptr, size: 1, thread: 0, seq: 0 });
    assert.equal(findOverlap([{ b: b(10), lo: 9, hi: 15 }, { b: b(16), lo: 15, hi: 21 }]), null);
    assert.match(findOverlap([{ b: b(16), lo: 15, hi: 21 }, { b: b(10), lo: 9, hi: 16 }]) ?? '', /overlap/);
    const rings = new Int32Array(new SharedArrayBuffer(ringsBytes(2)));
    for (let k = 0; k < RING_CAP; k++) assert.ok(ringPush(rings, 0, 1, 2, k));
    assert.equal(ringPush(rings, 0, 1, 2, 99), false, 'a full ring refuses');
    const got: number[] = [];
    assert.equal(ringDrain(rings, 0, 1, 2, (r) => got.push(r)), RING_CAP);
    assert.deepEqual(got, Array.from({ length: RING_CAP }, (_, k) => k));
    assert.equal(ringDrain(rings, 1, 0, 2, (r) => got.push(r)), 0, 'rings are per direction');
    heap.free(p);
  });
});
