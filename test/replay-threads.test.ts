/**
 * Threaded replay (WORKLOADS.md "Threaded replay"): a multi-threaded trace replayed with a thread per
 * recorded thread, on one shared hakmem heap and on pthreads in the C replayer under glibc, reproduces
 * the fingerprint of the serialized replay; a block freed on one thread before, in wall time, the
 * thread that allocates it gets there is waited for; a free of an ID nobody allocated is refused,
 * naming the op and its thread; the passes run in their order, warm-ups before the timed ones.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { cachedBinaryTrace } from '../lib/bench/native/binary-trace';
import { isSkipped, runNative } from '../lib/bench/native/run-native';
import { runBench, type BenchResult } from '../lib/bench/runner';
import { CONTROL_PASS, CONTROL_WORDS, PASS_FINISH, PASS_FOOTPRINT, PASS_SETTLE, PASS_TIMED, PASS_WARMUP } from '../lib/bench/threads/replay-thread-protocol';
import { replayOnThreads } from '../lib/bench/threads/replay-threads-run';
import { replayFacts } from '../lib/bench/workloads/replay-facts';
import { warmUpPassCount } from '../lib/bench/workloads/replay';
import { planThreadedReplay, runEnds } from '../lib/bench/workloads/replay-threads';
import { blankTrace, OP_FREE, OP_MALLOC, OP_REALLOC, type Trace } from '../lib/trace/trace';
import { writeTrace } from '../lib/trace/write';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'hakmem-replay-threads-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

type Op = [thread: number, kind: number, id: number, size: number];

function traceOf(ops: readonly Op[]): Trace {
  const t = blankTrace(ops.length);
  ops.forEach(([thread, kind, id, size], i) => {
    t.thread[i] = thread;
    t.kind[i] = kind;
    t.id[i] = id;
    t.size[i] = size;
  });
  return t;
}

/** `n` ops on three threads: each allocates, and frees or reallocates blocks any thread made (tiny sizes). */
function handOffTrace(n: number, seed: number): Trace {
  let x = seed;
  const rand = (k: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % k;
  };
  const live: number[] = [];
  let nextId = 0;
  const ops: Op[] = [];
  for (let i = 0; i < n; i++) {
    const thread = rand(3);
    if (live.length > 50 && rand(2) === 0) {
      const k = rand(live.length);
      if (rand(4) === 0) ops.push([thread, OP_REALLOC, live[k], 1 + rand(400)]);
      else {
        ops.push([thread, OP_FREE, live[k], 0]);
        live.splice(k, 1);
      }
    } else {
      ops.push([thread, OP_MALLOC, nextId, 1 + rand(300)]);
      live.push(nextId++);
    }
  }
  return traceOf(ops);
}

async function replay(file: string, allocator: 'hakmem' | 'system', serial: boolean, loops = 1): Promise<BenchResult> {
  return runBench({ bench: 'replay', allocator, threads: 1, engine: 'node', json: true, timeline: null, latency: false, args: { file, loops, serial } });
}

describe('threaded replay', () => {
  test('three threads handing blocks around: threaded = serialized fingerprint, hakmem and glibc; remote frees counted', async () => {
    const trace = handOffTrace(6_000, 7);
    const file = path.join(scratch, 'hand-off.trace');
    await writeTrace(trace, file);
    const facts = replayFacts(trace);
    const plan = planThreadedReplay(trace, facts);
    const crossFrees = plan.threads.reduce((n, p) => n + p.crossThreadFrees, 0);
    assert.ok(crossFrees > 100 && plan.threads.some((p) => p.crossThreadReallocs > 0), 'the trace hands blocks across threads');
    for (const allocator of ['hakmem', 'system'] as const) {
      const threaded = await replay(file, allocator, false, 2);
      const serial = await replay(file, allocator, true);
      assert.equal(threaded.skipped, null, threaded.skipped ?? '');
      assert.deepEqual(threaded.fingerprint, facts.fingerprint, `${allocator} threaded`);
      assert.deepEqual(serial.fingerprint, facts.fingerprint, `${allocator} serialized`);
      assert.equal(threaded.threads, 3);
      assert.equal(threaded.replayMode, 'threads');
      assert.equal(serial.threads, 1);
      assert.equal(threaded.crossThreadFrees, crossFrees);
      assert.deepEqual(threaded.replayThreads?.map((t) => t.ops), plan.threads.map((p) => p.trace.length));
      assert.equal(threaded.ops, 2 * trace.length);
      assert.match(threaded.harnessMethod ?? '', /^unavailable: the oracle hands out/);
      if (allocator === 'hakmem') {
        // Not equal to crossFrees: a realloc in place on another thread keeps the block's owner, so a later free is
        // remote or not other than the trace's count says (the trace cannot tell in place from moved).
        assert.ok((threaded.remoteFrees ?? 0) > 0, 'hakmem routed frees to remote queues');
        assert.ok((threaded.peakFootprintBytes ?? 0) >= facts.peakLiveBytes);
        // The second reading, the tiers' peak, leaves out the pages given back: at most the resident bytes.
        const tiers = threaded.footprintByStats?.bytes ?? 0;
        assert.ok(tiers >= facts.peakLiveBytes && tiers <= (threaded.peakFootprintBytes ?? 0), `tiers' peak ${tiers}`);
        assert.match(threaded.footprintByStats?.method ?? '', /tiers' peak/);
      }
    }
  });

  test("passes in order: footprint, warm-up in short calls, the rest of a serial replay's warm-up run as timed, the last settling, the timed ones, finish", async () => {
    const trace = handOffTrace(3_000, 11);
    const kinds: number[] = [];
    const notify = Atomics.notify;
    // The main thread starts each pass by storing its kind and waking the workers through the control words.
    Atomics.notify = ((array: Int32Array, index: number, count?: number) => {
      if (array.length === CONTROL_WORDS) kinds.push(Atomics.load(array, CONTROL_PASS));
      return notify(array, index, count);
    }) as typeof Atomics.notify;
    try {
      const run = await replayOnThreads({ preset: 'current', bytes: 16 * 1024 * 1024, shared: true }, trace, replayFacts(trace), 2);
      assert.equal(run.ops, 2 * trace.length);
      assert.equal(run.warmupPasses, warmUpPassCount(trace.length));
    } finally {
      Atomics.notify = notify;
    }
    const asTimed = Array.from({ length: warmUpPassCount(trace.length) - 2 }, () => PASS_TIMED);
    assert.deepEqual(kinds, [PASS_FOOTPRINT, PASS_WARMUP, ...asTimed, PASS_SETTLE, PASS_TIMED, PASS_TIMED, PASS_FINISH]);
  });

  // Thread 0's lead is long enough (tens of milliseconds natively) that thread 1 cannot be scheduled
  // after it: with 200,000 ops (2 ms of glibc) a loaded machine let thread 1 start late and not wait.
  test('a free on thread 1 of a block thread 0 allocates only after 2,000,000 ops of its own waits for it', async () => {
    const ops: Op[] = [];
    for (let i = 0; i < 1_000_000; i++) ops.push([0, OP_MALLOC, 100, 64], [0, OP_FREE, 100, 0]);
    ops.push([0, OP_MALLOC, 5, 48], [1, OP_FREE, 5, 0], [1, OP_MALLOC, 6, 16], [0, OP_FREE, 6, 0]);
    const trace = traceOf(ops);
    const facts = replayFacts(trace);
    const plan = planThreadedReplay(trace, facts);
    assert.deepEqual(Array.from(plan.threads[1].waitFor), [1, -1], "thread 1's free waits for its slot's first op");
    assert.deepEqual(Array.from(plan.threads[0].publish.slice(-2)), [1, -1]);
    // Thread 0's runs: 16,384 ops each, the one holding m 5 ending right after it (it publishes), then f 6 (it waits).
    assert.deepEqual(Array.from(runEnds(plan.threads[0], 1 << 14)).slice(-3), [1_998_848, 2_000_001, 2_000_002]);
    const file = path.join(scratch, 'late.hktrace');
    await writeTrace(trace, file);
    // Slabs from a class's first block: on `current` the blocks would be inside coalescing blocks,
    // which go back to the tier on a free from any thread (mid frees, not remote ones).
    const saved = process.env.HAKMEM_TINY_SLAB_AFTER_BYTES;
    process.env.HAKMEM_TINY_SLAB_AFTER_BYTES = '0';
    try {
      for (const allocator of ['hakmem', 'system'] as const) {
        const r = await replay(file, allocator, false);
        assert.equal(r.skipped, null, r.skipped ?? '');
        assert.deepEqual(r.fingerprint, facts.fingerprint, allocator);
        // Thread 1 starts with the free: it cannot find its block ready unless it waited.
        assert.equal(r.replayThreads?.[1].waits, 1, `${allocator}: thread 1 waited once`);
        assert.equal(r.crossThreadFrees, 2);
        // No reallocs here: each of the two cross-thread frees is one remote free on hakmem.
        if (allocator === 'hakmem') assert.equal(r.remoteFrees, 2);
      }
    } finally {
      if (saved === undefined) delete process.env.HAKMEM_TINY_SLAB_AFTER_BYTES;
      else process.env.HAKMEM_TINY_SLAB_AFTER_BYTES = saved;
    }
  });

  test("blocks a thread leaves live go only once every thread's ops are done: the peak is the trace's live peak (TS and C)", async () => {
    // Thread 0 makes a 4 MiB block it never frees and is done; thread 1 first waits for thread 0's
    // first block, runs 400,000 ops of its own, then makes a 4 MiB block it never frees either. Freed
    // when thread 0's own ops ended, the first block went long before the second came.
    const ops: Op[] = [[0, OP_MALLOC, 1, 16], [0, OP_MALLOC, 2, 4 << 20], [1, OP_FREE, 1, 0]];
    for (let i = 0; i < 200_000; i++) ops.push([1, OP_MALLOC, 3, 64], [1, OP_FREE, 3, 0]);
    ops.push([1, OP_MALLOC, 4, 4 << 20]);
    const trace = traceOf(ops);
    const facts = replayFacts(trace);
    assert.equal(facts.peakLiveBytes, 8 << 20);
    const file = path.join(scratch, 'leftovers.hktrace');
    await writeTrace(trace, file);
    for (const allocator of ['hakmem', 'system'] as const) {
      const r = await replay(file, allocator, false);
      assert.equal(r.skipped, null, r.skipped ?? '');
      assert.equal(r.threads, 2);
      assert.ok(r.peakFootprintBytes! >= facts.peakLiveBytes, `${allocator}: ${r.peakFootprintBytes} bytes at the peak, ${facts.peakLiveBytes} live`);
    }
  });

  test('a thread out of memory while another waits for its block: a skipped row naming the op, the waiter let go', async () => {
    const file = path.join(scratch, 'out-of-memory.trace');
    await writeTrace(traceOf([[1, OP_MALLOC, 5, 16], [0, OP_MALLOC, 1, 100_000_000], [1, OP_FREE, 1, 0]]), file);
    const before = process.env.HAKMEM_HEAP_BYTES;
    process.env.HAKMEM_HEAP_BYTES = String(64 << 20);
    try {
      const r = await replay(file, 'hakmem', false);
      assert.match(r.skipped ?? '', /out of memory at op 1 \(ID 1, 100000000 bytes\)/);
      assert.equal(r.preset, 'current');
    } finally {
      if (before === undefined) delete process.env.HAKMEM_HEAP_BYTES;
      else process.env.HAKMEM_HEAP_BYTES = before;
    }
  });

  test('a thread freeing an ID nobody allocated is refused before anything runs, naming the op and thread (TS and C)', async () => {
    const trace = traceOf([
      [0, OP_MALLOC, 1, 32],
      [1, OP_MALLOC, 2, 32],
      [0, OP_FREE, 1, 0],
      [2, OP_FREE, 9, 0],
    ]);
    assert.throws(() => replayFacts(trace), { message: 'op 3 (ID 9): f of an ID that holds no block (on thread 2)' });
    // The C replayer checks as it splits the trace (its input need not come through lib/trace).
    const file = await cachedBinaryTrace('orphan-free', trace, scratch);
    const r = await runNative('system', 'replay', [file, 1]).catch((e: Error) => e);
    if (!(r instanceof Error) && isSkipped(r)) return; // no C compiler: the TS half stands
    assert.ok(r instanceof Error, 'the C replayer refused the trace');
    assert.match(r.message, /op 3 \(ID 9, thread 2\): f of an ID that holds no block/);
  });
});
