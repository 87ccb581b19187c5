/**
 * Trace replay: the facts a trace fixes (fingerprint, peak live bytes), the TS and C replayers
 * against them and each other, the first/last-byte check against a broken allocator, the footprint
 * timeline's invariants, the latency histograms (TS and C bucketing) and the command line.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { createHeap } from '../lib';
import { HakmemAllocator } from '../lib/bench/adapters/hakmem';
import { ThingAllocator } from '../lib/bench/adapters/thing';
import { V8Allocator } from '../lib/bench/adapters/v8';
import { parseBenchArgs, UsageError } from '../lib/bench/cli-args';
import {
  histogramFromBuckets,
  LATENCY_HISTOGRAM,
  newLatencyHistogram,
  opLatency,
  recordLatency,
} from '../lib/bench/measures/latency';
import { passesWithOracle } from '../lib/bench/measures/oracle-run';
import type { TimelineSample } from '../lib/bench/measures/timeline';
import { binaryTraceFile } from '../lib/bench/native/binary-trace';
import { buildNative, isSkipped, runNative, type NativeResult } from '../lib/bench/native/run-native';
import { formatResultLine, runBench } from '../lib/bench/runner';
import { afterFootprintPass, footprintPass, newReplayState, replayFootprint, replayTrace, ReplayOutOfMemory, timedPasses, warmUpPassCount, warmUpPasses, WARMUP_MAX_PASSES, WARMUP_MIN_PASSES, WARMUP_OPS } from '../lib/bench/workloads/replay';
import { newOffsets, ObjectOracle, OffsetOracle } from '../lib/bench/adapters/oracle';
import type { ReplayAllocator } from '../lib/bench/adapters/allocator-adapter';
import { ReplayError, replayFacts } from '../lib/bench/workloads/replay-facts';
import { readTrace } from '../lib/trace/read';
import { blankTrace, OP_ALIGNED, OP_CALLOC, OP_FREE, OP_MALLOC, OP_REALLOC, type Trace } from '../lib/trace/trace';
import { writeTrace } from '../lib/trace/write';

const ROOT = path.resolve(__dirname, '..');
const TRACES = path.join(ROOT, 'data', 'traces');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'hakmem-replay-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

type Op = ['m' | 'r', number, number] | ['c', number, number, number] | ['a', number, number, number] | ['f', number];

/** A Trace from ops written as in the text form: ['m', ID, SIZE], ['c', ID, N, SIZE], ['a', ID, ALIGN, SIZE], ['f', ID]. */
function traceOf(ops: readonly Op[]): Trace {
  const t = blankTrace(ops.length);
  ops.forEach((op, i) => {
    t.id[i] = op[1];
    switch (op[0]) {
      case 'm':
        t.kind[i] = OP_MALLOC;
        t.size[i] = op[2];
        break;
      case 'r':
        t.kind[i] = OP_REALLOC;
        t.size[i] = op[2];
        break;
      case 'c':
        t.kind[i] = OP_CALLOC;
        t.aux[i] = op[2];
        t.size[i] = op[3];
        break;
      case 'a':
        t.kind[i] = OP_ALIGNED;
        t.aux[i] = op[2];
        t.size[i] = op[3];
        break;
      case 'f':
        t.kind[i] = OP_FREE;
        break;
    }
  });
  return t;
}

/** Every op kind, IDs reused, blocks left live at the end, 0-byte requests, sizes past the tiny and mid tiers. */
function mixedTrace(ops: number, ids: number, seed: number): Trace {
  let x = seed;
  const rand = (n: number) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const live = new Set<number>();
  const out: Op[] = [];
  for (let i = 0; i < ops; i++) {
    const id = rand(ids);
    if (live.has(id)) {
      if (rand(5) === 0) out.push(['r', id, rand(3000)]);
      else {
        out.push(['f', id]);
        live.delete(id);
      }
      continue;
    }
    const r = rand(20);
    if (r === 0) out.push(['c', id, rand(8), 1 + rand(64)]);
    else if (r === 1) out.push(['a', id, 1 << rand(13), 1 + rand(3000)]);
    else if (r === 2) out.push(['m', id, 60_000 + rand(200_000)]);
    else out.push(['m', id, rand(2048)]);
    live.add(id);
  }
  return traceOf(out);
}

async function binaryFile(trace: Trace, name: string): Promise<string> {
  const file = path.join(scratch, `${name}.hktrace`);
  await writeTrace(trace, file);
  return file;
}

async function nativeReplay(args: (string | number)[]): Promise<NativeResult> {
  const r = await runNative('system', 'replay', args);
  if (isSkipped(r)) assert.fail(`system replay skipped: ${r.skipped}`);
  return r;
}

const hakmem = () => new HakmemAllocator(createHeap({ bytes: 64 << 20 }));

describe('replay facts', () => {
  test('peak live bytes, end state and fingerprint of a hand-made trace', () => {
    const t = traceOf([
      ['m', 0, 100],
      ['c', 1, 4, 25], // 100 bytes: 200 live
      ['r', 0, 300], // 400 live
      ['f', 1], // 300
      ['a', 1, 64, 50], // 350
      ['m', 2, 0], // a 0-byte request: 350
      ['f', 0], // 50
      ['m', 0, 10], // 60
    ]);
    const f = replayFacts(t);
    assert.equal(f.peakLiveBytes, 400);
    assert.equal(f.peakLiveBlocks, 3);
    assert.equal(f.endLiveBytes, 60);
    assert.equal(f.endLiveBlocks, 3);
    assert.equal(f.maxId, 2);
    assert.equal(f.recordedThreads, 1);
    assert.equal(f.fingerprint.mallocs, 6);
    assert.equal(f.fingerprint.frees, 2);
    assert.equal(f.fingerprint.bytes, 100 + 100 + 300 + 50 + 0 + 10);
    // hash = (hash * 31 + kind) * 31 + bytes, unsigned 32-bit, over the allocation ops in order
    let h = 0;
    for (const [k, b] of [[0, 100], [1, 100], [2, 300], [3, 50], [0, 0], [0, 10]]) h = ((h * 31 + k) * 31 + b) % 2 ** 32;
    assert.equal(f.fingerprint.hash, h);
  });

  test('rejects a free of an empty ID and an allocation over a live one, naming the op', () => {
    assert.throws(() => replayFacts(traceOf([['m', 0, 8], ['f', 1]])), { message: 'op 1 (ID 1): f of an ID that holds no block' });
    assert.throws(() => replayFacts(traceOf([['m', 3, 8], ['m', 3, 8]])), (e: Error) => e instanceof ReplayError && /op 1 \(ID 3\): m of an ID that already holds/.test(e.message));
    assert.throws(() => replayFacts(traceOf([['a', 0, 48, 8]])), /op 0 \(ID 0\): alignment 48 is not a power of two/);
  });
});

describe('replay on the TypeScript allocators', () => {
  const trace = mixedTrace(20_000, 300, 7);
  const facts = replayFacts(trace);

  for (const [name, make] of [
    ['hakmem', hakmem],
    ['v8', () => new V8Allocator()],
    ['thing', () => new ThingAllocator(64 << 20)],
  ] as const) {
    test(`${name}: the trace's fingerprint, loops N = N x ops`, () => {
      const r = replayTrace(make() as never, trace, facts, { loops: 3 });
      assert.deepEqual(r.fingerprint, facts.fingerprint);
      assert.equal(r.ops, 3 * trace.length);
      assert.ok(r.seconds > 0);
    });
  }

  test("thing: every block back in the pool after the passes (MemPool.realloc's moved blocks included)", () => {
    const a = new ThingAllocator(64 << 20);
    replayTrace(a, trace, facts, { loops: 1 });
    assert.deepEqual(a.target.stats().used, { count: 0, size: 0 });
  });

  test('blocks the trace never frees are freed at the end of every pass', () => {
    let mallocs = 0;
    let frees = 0;
    class Counting extends V8Allocator {
      malloc(size: number) {
        mallocs++;
        return super.malloc(size);
      }
      free() {
        frees++;
      }
    }
    const t = traceOf([['m', 0, 10], ['m', 1, 20], ['f', 0], ['m', 0, 30], ['m', 2, 40]]); // 3 left live
    const r = replayTrace(new Counting(), t, replayFacts(t), { loops: 2 });
    // A trace of 5 ops warms up for the most passes (WARMUP_OPS would take millions of them).
    assert.equal(r.warmupPasses, WARMUP_MAX_PASSES);
    assert.equal(warmUpPassCount(t.length), WARMUP_MAX_PASSES);
    // footprint pass + the warm-up + 2 timed: passes of 4 mallocs and 1 free in the trace, 3 at the end
    const passes = 1 + WARMUP_MAX_PASSES + 2;
    assert.equal(mallocs, passes * 4);
    assert.equal(frees, passes * (1 + 3));
    assert.equal(r.ops, 2 * t.length);
  });

  test('warms up for WARMUP_OPS ops in whole passes, within the pass bounds, and stops early past its seconds', () => {
    assert.equal(warmUpPassCount(WARMUP_OPS), WARMUP_MIN_PASSES, 'a trace of WARMUP_OPS ops still warms up twice');
    assert.equal(warmUpPassCount(1_000_000), 16);
    assert.equal(warmUpPassCount(300_000), 54, 'whole passes: 16M / 300k = 53.3');
    assert.equal(warmUpPassCount(1), WARMUP_MAX_PASSES);
    assert.equal(warmUpPassCount(0), WARMUP_MAX_PASSES);
    let passes = 0;
    class Counting extends V8Allocator {
      free(p: Uint8Array | null) {
        if (p && p.length === 7) passes++; // the trace's one free, once a pass
      }
    }
    const t = traceOf([['m', 0, 7], ['f', 0]]);
    const a = new Counting();
    assert.equal(warmUpPasses(a, t, newReplayState(a, t, replayFacts(t)), { passes: 5, maxSeconds: Infinity }), 5);
    assert.equal(passes, 5);
    passes = 0;
    assert.equal(warmUpPasses(a, t, newReplayState(a, t, replayFacts(t)), { passes: 50, maxSeconds: 0 }), WARMUP_MIN_PASSES, 'past its seconds at once: the least');
    assert.equal(passes, WARMUP_MIN_PASSES);
  });

  test("with a recording, the last warm-up pass records its blocks in order: the oracle's, as the timed passes find them", () => {
    const t = traceOf([['m', 0, 10], ['m', 1, 20], ['f', 0], ['m', 2, 30], ['f', 1], ['f', 2]]);
    const f = replayFacts(t);
    const given: number[] = [];
    const a = new ThingAllocator(1 << 20);
    const malloc = a.target.malloc.bind(a.target);
    a.target.malloc = (size: number) => {
      const p = malloc(size);
      given.push(p);
      return p;
    };
    const st = newReplayState(a, t, f);
    const record = new Int32Array(f.fingerprint.mallocs);
    footprintPass(a, t, st, {}, record);
    assert.deepEqual([...record], given);
    given.length = 0;
    assert.equal(warmUpPasses(a, t, st, { passes: 3, maxSeconds: Infinity }, record), 3, 'the recording pass is the last warm-up pass');
    assert.equal(given.length, 3 * 3);
    assert.deepEqual([...record], given.slice(-3), "the last pass's blocks");
    assert.equal(st.footprint, null, 'the passes after it write first and last bytes only');
  });

  test('the footprint pass writes every block whole and records it in order; the passes after write first and last bytes only', () => {
    const t = traceOf([['m', 0, 10], ['m', 1, 0], ['r', 0, 300], ['f', 1], ['c', 2, 4, 5], ['f', 0]]);
    const f = replayFacts(t);
    const made = [10, 1, 300, 20]; // a 0-byte request is made for 1
    // Blocks at offsets: the loop writes first and last bytes itself, the adapter's fill the whole block.
    const filled: [number, number][] = [];
    class Filling extends ThingAllocator {
      fill(ptr: number, size: number, value: number) {
        filled.push([ptr, size]);
        super.fill(ptr, size, value);
      }
    }
    const a = new Filling(1 << 20);
    const record = new Int32Array(f.fingerprint.mallocs);
    const st = newReplayState(a, t, f);
    const fp = footprintPass(a, t, st, { timeline: 2 }, record);
    assert.deepEqual(filled.map(([, size]) => size), made);
    assert.deepEqual([...record], filled.map(([p]) => p));
    // live bytes as the trace asks for them after ops 2, 4, 6: 10 + 0, 300 + 0 - 0, 20
    assert.deepEqual(fp.timeline?.map((s) => [s.op, s.liveBytes]), [[2, 10], [4, 300], [6, 20]]);
    assert.equal(st.footprint, null);
    timedPasses(a, t, st, 1);
    assert.equal(filled.length, made.length);
    // Blocks that are objects: touch (first and last bytes) or fill, through the adapter.
    const writes: string[] = [];
    class Writing extends V8Allocator {
      fill(ptr: Uint8Array, size: number, value: number) {
        writes.push(`fill ${size}`);
        super.fill(ptr, size, value);
      }
      touch(ptr: Uint8Array, size: number, value: number) {
        writes.push(`touch ${size}`);
        super.touch(ptr, size, value);
      }
    }
    const v = new Writing();
    const vs = newReplayState(v, t, f);
    footprintPass(v, t, vs, {});
    assert.deepEqual(writes, made.map((n) => `fill ${n}`));
    writes.length = 0;
    timedPasses(v, t, vs, 1, { passes: 2, maxSeconds: Infinity });
    assert.deepEqual(writes, [1, 2, 3].flatMap(() => made.map((n) => `touch ${n}`))); // two warm-up passes, one timed
  });

  test('a footprint pass cut short by out of memory leaves the state to passes that write first and last bytes only', () => {
    const t = traceOf([['m', 0, 16], ['m', 1, 2 ** 30]]);
    const a = hakmem();
    const st = newReplayState(a, t, replayFacts(t));
    assert.throws(() => footprintPass(a, t, st, {}), ReplayOutOfMemory);
    assert.equal(st.footprint, null);
  });

  test('a broken allocator (blocks overlapping by one byte) is caught by the first/last byte check', () => {
    class Overlapping extends ThingAllocator {
      private next = 64;
      constructor() {
        super(1 << 20);
        const self = this;
        (this as { target: unknown }).target = {
          malloc(size: number) {
            const p = self.next;
            self.next += size - 1; // the next block starts on this one's last byte
            return p;
          },
          free() {},
        };
      }
    }
    const t = traceOf([['m', 0, 100], ['m', 1, 100], ['f', 0], ['f', 1]]);
    assert.throws(() => replayTrace(new Overlapping(), t, replayFacts(t), { loops: 1 }), {
      message: 'op 2 (ID 0): before free: first/last byte 0/1, written 0: another block overlaps this one',
    });
  });

  test('a request larger than the heap is an out-of-memory result naming the op', () => {
    const t = traceOf([['m', 0, 16], ['m', 1, 2 ** 40]]);
    assert.throws(
      () => replayTrace(hakmem(), t, replayFacts(t), { loops: 1 }),
      (e: Error) => e instanceof ReplayOutOfMemory && e.message === `out of memory at op 1 (ID 1, ${2 ** 40} bytes)`,
    );
  });
});

/** live <= footprint at every sample, one sample every K ops, the last one after the last op with the end state. */
function checkTimeline(samples: readonly TimelineSample[], trace: Trace, every: number): void {
  const facts = replayFacts(trace);
  assert.equal(samples.length, Math.ceil(trace.length / every));
  samples.forEach((s, k) => assert.equal(s.op, Math.min((k + 1) * every, trace.length)));
  for (const s of samples) {
    assert.ok(s.footprintBytes !== null && s.liveBytes <= s.footprintBytes, `live ${s.liveBytes} > footprint ${s.footprintBytes} at op ${s.op}`);
  }
  const last = samples[samples.length - 1];
  assert.equal(last.op, trace.length);
  assert.equal(last.liveBytes, facts.endLiveBytes);
  assert.ok(Math.max(...samples.map((s) => s.liveBytes)) <= facts.peakLiveBytes);
}

// Megabytes live, so resident growth dwarfs what the allocator had resident before the pass.
const bigTrace = mixedTrace(30_000, 2_000, 3);

describe('footprint timeline', () => {
  test('hakmem: live <= footprint at every sample, the last at the end state, SuperSlabs and slabs counted', () => {
    const a = hakmem();
    const r = replayFootprint(a, bigTrace, replayFacts(bigTrace), { timeline: 1000, shape: () => a.shape() });
    const samples = r.timeline as TimelineSample[];
    checkTimeline(samples, bigTrace, 1000);
    assert.ok(samples.every((s) => (s.superslabs ?? 0) >= 1 && (s.activeSlabs ?? 0) >= 1));
    assert.ok(r.peakFootprintBytes !== null && r.peakFootprintBytes >= Math.max(...samples.map((s) => s.footprintBytes as number)));
  });

  test('thing: the pool top bounds the live bytes', () => {
    const r = replayFootprint(new ThingAllocator(256 << 20), bigTrace, replayFacts(bigTrace), { timeline: 997 });
    checkTimeline(r.timeline as TimelineSample[], bigTrace, 997);
  });

  test('v8: no footprint, and the reason', () => {
    const r = replayFootprint(new V8Allocator(), bigTrace, replayFacts(bigTrace), { timeline: 5000 });
    assert.equal(r.peakFootprintBytes, null);
    assert.match(r.footprintMethod, /^unavailable: /);
    assert.ok(r.timeline?.every((s) => s.footprintBytes === null));
  });

  test('native (glibc): resident growth bounds the live bytes at every sample and at the peak', async () => {
    const file = await binaryFile(bigTrace, 'big');
    const r = await nativeReplay([file, 1, '--timeline', 1000]);
    const line = r.line as { timeline: [number, number, number][]; peakFootprintBytes: number | null };
    const samples = line.timeline.map(([op, liveBytes, footprintBytes]) => ({ op, liveBytes, footprintBytes }));
    checkTimeline(samples, bigTrace, 1000);
    const peak = line.peakFootprintBytes as number;
    assert.ok(peak >= Math.max(...samples.map((s) => s.footprintBytes)));
    assert.ok(peak >= replayFacts(bigTrace).peakLiveBytes, `peak resident growth ${peak} under the peak live bytes`);
  });
});

describe('TypeScript and C replay the same requests', () => {
  test('a small mixed trace: equal fingerprints, ops = loops x length', async () => {
    const trace = mixedTrace(5_000, 100, 11);
    const file = await binaryFile(trace, 'small');
    const facts = replayFacts(trace);
    const c = await nativeReplay([file, 2]);
    assert.deepEqual(c.fingerprint, facts.fingerprint);
    assert.equal(c.ops, 2 * trace.length);
    assert.equal((c.line as { warmupPasses?: number }).warmupPasses, 1, "the C replayer's own default");
    assert.deepEqual(replayTrace(hakmem(), trace, facts, { loops: 1 }).fingerprint, c.fingerprint);
  });

  test('the C replayer warms up for --warmup N passes of each, and the bench asks for as many as TypeScript runs', async () => {
    const trace = mixedTrace(3_000, 60, 5);
    const file = await binaryFile(trace, 'warmup');
    const c = await nativeReplay([file, 1, '--warmup', 7]);
    assert.equal((c.line as { warmupPasses?: number }).warmupPasses, 7);
    assert.deepEqual(c.fingerprint, replayFacts(trace).fingerprint);
    await assert.rejects(nativeReplay([file, 1, '--warmup', 0]), /N must be/);
    const args = { file, loops: 1 };
    const [system, ts] = await Promise.all(
      (['system', 'hakmem'] as const).map((allocator) =>
        runBench({ bench: 'replay', allocator, threads: 1, engine: 'node', json: true, timeline: null, latency: false, breakdown: false, args }),
      ),
    );
    assert.equal(system.warmupPasses, warmUpPassCount(trace.length));
    assert.equal(ts.warmupPasses, warmUpPassCount(trace.length));
  });

  test('a text trace recorded on two threads, --serial: replayed in recorded order on one thread, by both', async () => {
    const trace = mixedTrace(4_000, 80, 9);
    for (let i = 0; i < trace.length; i++) (trace.thread as Uint16Array)[i] = trace.id[i] % 2; // IDs split between two threads
    const file = path.join(scratch, 'threads.trace');
    await writeTrace(trace, file);
    const facts = replayFacts(await readTrace(file));
    assert.equal(facts.recordedThreads, 2);
    for (const allocator of ['hakmem', 'system'] as const) {
      const r = await runBench({ bench: 'replay', allocator, threads: 1, engine: 'node', json: true, timeline: null, latency: false, args: { file, loops: 1, serial: true } });
      assert.deepEqual(r.fingerprint, facts.fingerprint, allocator);
      assert.equal(r.threads, 1);
      assert.equal(r.replayMode, undefined);
      assert.equal(r.recordedThreads, 2);
    }
  });

  // Every bundled trace (data/traces/*.trace.gz, as npm run trace -- bundle writes them): one pass each.
  const bundled = existsSync(TRACES) ? readdirSync(TRACES).filter((f) => /\.(hktrace|trace)(\.gz)?$/.test(f)) : [];
  for (const name of bundled) {
    test(`bundled trace ${name}: hakmem (TS) and glibc (C) replay the trace's fingerprint`, async () => {
      const file = path.join(TRACES, name);
      const trace = await readTrace(file);
      const facts = replayFacts(trace);
      const c = await nativeReplay([await binaryTraceFile(file, trace), 0]);
      assert.deepEqual(c.fingerprint, facts.fingerprint);
      const bytes = Math.max(64, Math.ceil((4 * facts.peakLiveBytes) / 2 ** 20)) * 2 ** 20;
      const ts = replayTrace(new HakmemAllocator(createHeap({ bytes })), trace, facts, { loops: 0 });
      assert.deepEqual(ts.fingerprint, facts.fingerprint);
    });
  }
});

/** The blocks `a` gave in a footprint pass of `t`, in order (what the oracle hands back). */
function recordPass(a: ReplayAllocator<number>, t: Trace) {
  const facts = replayFacts(t);
  const memory = a.memory as { bytes(): Uint8Array };
  const recorded = newOffsets(memory.bytes().length, facts.fingerprint.mallocs);
  footprintPass(a, t, newReplayState(a, t, facts), {}, recorded);
  return { facts, recorded, memoryBytes: memory.bytes().length };
}

describe('the oracle (the replay loop with no allocator work)', () => {
  const trace = mixedTrace(20_000, 300, 5);

  test("hands back hakmem's blocks: the trace's fingerprint, every byte check passed, calloc zeroed, realloc's bytes moved", () => {
    const { facts, recorded, memoryBytes } = recordPass(hakmem(), trace);
    const oracle = new OffsetOracle(recorded, memoryBytes);
    const r = timedPasses(oracle, trace, newReplayState(oracle, trace, facts), 2);
    assert.deepEqual(r.fingerprint, facts.fingerprint);
    assert.equal(r.ops, 2 * trace.length);
  });

  test("calloc and realloc set only the bytes the loop's checks read: zeroing and copying are the allocator's work", () => {
    const oracle = new OffsetOracle(Int32Array.from([64, 256, 512]), 4096);
    const u8 = oracle.memory.bytes();
    assert.equal(oracle.malloc(100), 64);
    u8.fill(7, 64, 164);
    assert.equal(oracle.realloc(64, 100, 150), 256, 'the block moved');
    assert.deepEqual([u8[256], u8[257], u8[355]], [7, 0, 0], 'its first byte carried over, no other');
    u8.fill(9, 512, 612);
    assert.equal(oracle.calloc(10, 10), 512);
    assert.deepEqual([u8[512], u8[513], u8[610], u8[611]], [0, 9, 9, 0], 'its first and last bytes zeroed, no other');
    // A realloc that stays where it is touches nothing.
    const stays = new OffsetOracle(Int32Array.from([64, 64]), 4096);
    stays.malloc(100);
    stays.memory.bytes()[65] = 5;
    assert.equal(stays.realloc(64, 100, 50), 64);
    assert.equal(stays.memory.bytes()[65], 5);
  });

  test("objects: calloc and realloc set only the checked bytes too", () => {
    const oracle = new ObjectOracle(Float64Array.from([4, 8, 6]));
    const first = oracle.malloc(4);
    first.set([7, 7, 7, 7]);
    assert.deepEqual([...oracle.realloc(first, 4, 8)], [7, 0, 0, 0, 0, 0, 0, 0], 'its first byte carried over, no other');
    oracle.calloc(2, 3).fill(9);
    // The next pass hands the same arrays out again.
    oracle.malloc(4);
    oracle.realloc(first, 4, 8);
    assert.deepEqual([...oracle.calloc(2, 3)], [0, 9, 9, 9, 9, 0], 'its first and last bytes zeroed, no other');
  });

  test('a recording whose blocks overlap fails the first/last byte check, naming the op', () => {
    const t = traceOf([['m', 0, 100], ['m', 1, 100], ['f', 0], ['f', 1]]);
    const { facts, recorded, memoryBytes } = recordPass(hakmem(), t);
    recorded[1] = recorded[0] + 99; // block 1 starts on block 0's last byte
    const oracle = new OffsetOracle(recorded, memoryBytes);
    assert.throws(() => timedPasses(oracle, t, newReplayState(oracle, t, facts), 1), {
      message: 'op 2 (ID 0): before free: first/last byte 0/1, written 0: another block overlaps this one',
    });
  });

  test("in its worker, a pass after each of the allocator's, as the C replayer alternates its two", async () => {
    const a = hakmem();
    const { facts, recorded } = recordPass(a, trace);
    const order: string[] = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (this: Worker, request: unknown, ...rest: []) {
      order.push(`oracle ${request}`);
      return post.call(this, request, ...rest);
    };
    try {
      const guard = <T>(run: () => T) => (order.push('allocator'), run());
      const { timed, oracle } = await passesWithOracle(a, trace, newReplayState(a, trace, facts), facts, 3, recorded, guard);
      const pass = ['allocator', 'oracle pass'];
      assert.deepEqual(order, ['allocator', ...pass, ...pass, ...pass, 'oracle finish'], 'warm-up, then the passes in turn');
      assert.ok(!('error' in oracle), `the oracle failed: ${'error' in oracle ? oracle.error : ''}`);
      assert.deepEqual(oracle.fingerprint, facts.fingerprint);
      assert.deepEqual(timed.fingerprint, facts.fingerprint);
      assert.equal(oracle.ops, 3 * trace.length);
      assert.equal(timed.ops, 3 * trace.length);
      assert.ok(oracle.seconds > 0 && timed.seconds > 0);
    } finally {
      Worker.prototype.postMessage = post;
    }
  });

  test("the oracle hands out the blocks of the allocator's last warm-up pass, which it records over what the array held", async () => {
    const t = traceOf([['m', 0, 100], ['m', 1, 100], ['f', 0], ['f', 1]]);
    const a = hakmem();
    const { facts, recorded } = recordPass(a, t);
    recorded[1] = recorded[0] + 99; // blocks that overlap: the oracle's checks would fail on them
    const { oracle } = await passesWithOracle(a, t, newReplayState(a, t, facts), facts, 2, recorded, (run) => run());
    assert.ok(!('error' in oracle), `the oracle failed: ${'error' in oracle ? oracle.error : ''}`);
    assert.deepEqual(oracle.fingerprint, facts.fingerprint);
    assert.ok(recorded[1] >= recorded[0] + 100 || recorded[0] >= recorded[1] + 100, `blocks ${recorded[0]} and ${recorded[1]}, 100 bytes each`);
  });

  test("an oracle that fails in its worker says why, and the allocator's passes still run", async () => {
    const t = traceOf([['m', 0, 100], ['m', 1, 100], ['f', 0], ['f', 1]]);
    const a = hakmem();
    const { facts, recorded } = recordPass(a, t);
    let calls = 0;
    // After the warm-up, which recorded them: the blocks the worker is started with overlap.
    const guard = <T>(run: () => T) => {
      const r = run();
      if (++calls === 1) recorded[1] = recorded[0] + 99;
      return r;
    };
    const { timed, oracle } = await passesWithOracle(a, t, newReplayState(a, t, facts), facts, 2, recorded, guard);
    assert.deepEqual(oracle, { error: 'op 2 (ID 0): before free: first/last byte 0/1, written 0: another block overlaps this one' });
    assert.equal(timed.ops, 2 * t.length);
    assert.deepEqual(timed.fingerprint, facts.fingerprint);
  });

  test("a pass that throws stops the oracle's worker (the process would never exit), and an out-of-memory there says which pass", async () => {
    const t = traceOf([['m', 0, 100], ['m', 1, 100], ['f', 0], ['f', 1]]);
    const a = hakmem();
    const { facts, recorded } = recordPass(a, t);
    const terminate = Worker.prototype.terminate;
    const stopped: Worker[] = [];
    Worker.prototype.terminate = function (this: Worker) {
      stopped.push(this);
      return terminate.call(this);
    };
    try {
      let calls = 0;
      const guard = <T>(run: () => T) =>
        afterFootprintPass(() => {
          if (++calls === 2) throw new ReplayOutOfMemory(3, 1, 100); // the first timed pass
          return run();
        });
      await assert.rejects(passesWithOracle(a, t, newReplayState(a, t, facts), facts, 2, recorded, guard), {
        message: 'out of memory at op 3 (ID 1, 100 bytes) in a pass after the footprint pass, which fitted: the heap kept more memory from pass to pass',
      });
      assert.equal(stopped.length, 1, "the oracle's worker is told to stop");
      await new Promise((resolve) => stopped[0].once('exit', resolve));
    } finally {
      Worker.prototype.terminate = terminate;
    }
  });

  test("objects (v8's Uint8Arrays): one block per allocation op, the trace's fingerprint", () => {
    const facts = replayFacts(trace);
    const sizes: number[] = [];
    for (let i = 0; i < trace.length; i++) {
      if (trace.kind[i] !== OP_FREE) sizes.push(Math.max(1, trace.kind[i] === OP_CALLOC ? trace.aux[i] * trace.size[i] : trace.size[i]));
    }
    const oracle = new ObjectOracle(Float64Array.from(sizes));
    assert.deepEqual(timedPasses(oracle, trace, newReplayState(oracle, trace, facts), 1).fingerprint, facts.fingerprint);
  });

  for (const name of existsSync(TRACES) ? readdirSync(TRACES).filter((f) => /\.(hktrace|trace)(\.gz)?$/.test(f)) : []) {
    test(`bundled trace ${name}: the oracle of hakmem's blocks replays the trace's fingerprint`, async () => {
      const t = await readTrace(path.join(TRACES, name));
      const bytes = Math.max(64, Math.ceil((4 * replayFacts(t).peakLiveBytes) / 2 ** 20)) * 2 ** 20;
      const { facts, recorded, memoryBytes } = recordPass(new HakmemAllocator(createHeap({ bytes })), t);
      const oracle = new OffsetOracle(recorded, memoryBytes);
      assert.deepEqual(timedPasses(oracle, t, newReplayState(oracle, t, facts), 1).fingerprint, facts.fingerprint);
    });
  }

  for (const allocator of ['hakmem', 'v8', 'thing'] as const) {
    test(`bench replay on ${allocator}: end to end = allocator + harness, each labelled`, async () => {
      const file = await binaryFile(trace, `oracle-${allocator}`);
      const r = await runBench({ bench: 'replay', allocator, threads: 1, engine: 'node', json: true, timeline: null, latency: false, args: { file, loops: 2 } });
      const endToEnd = ((r.seconds as number) / (r.ops as number)) * 1e9;
      assert.ok((r.harnessNsPerOp as number) > 0, `harness ${r.harnessNsPerOp}`);
      assert.ok(Math.abs((r.harnessNsPerOp as number) + (r.allocatorNsPerOp as number) - endToEnd) < 1e-6);
      assert.match(r.harnessMethod as string, /^the oracle: /);
      // The fastest of the 2 passes: no slower than their mean, on either side.
      const harnessBest = r.harnessBestPassNsPerOp as number;
      assert.ok(harnessBest > 0 && harnessBest <= (r.harnessNsPerOp as number) + 1e-9, `harness fastest ${harnessBest}, mean ${r.harnessNsPerOp}`);
      assert.ok(harnessBest + (r.allocatorBestPassNsPerOp as number) <= endToEnd + 1e-9);
    });
  }

  test("the readable line says an allocator time below zero is noise, and prints it as measured", async () => {
    const file = await binaryFile(trace, 'oracle-negative');
    const r = await runBench({ bench: 'replay', allocator: 'hakmem', threads: 1, engine: 'node', json: true, timeline: null, latency: false, args: { file, loops: 1 } });
    const endToEnd = ((r.seconds as number) / (r.ops as number)) * 1e9;
    const negative = { ...r, harnessNsPerOp: endToEnd + 2, allocatorNsPerOp: -2 };
    assert.match(formatResultLine(negative), /allocator -2(\.0+)? ?ns \+ harness .* \(allocator below zero: a difference of two noisy times, the oracle's passes slower than the allocator's; take more --loops\)/);
    assert.doesNotMatch(formatResultLine({ ...r, allocatorNsPerOp: 2, harnessNsPerOp: endToEnd - 2 }), /below zero/);
  });

  test('with no timed passes there is no oracle, and the result says why', async () => {
    const file = await binaryFile(trace, 'oracle-none');
    const r = await runBench({ bench: 'replay', allocator: 'hakmem', threads: 1, engine: 'node', json: true, timeline: null, latency: false, args: { file, loops: 0 } });
    assert.equal(r.harnessNsPerOp, null);
    assert.equal(r.allocatorNsPerOp, null);
    assert.equal(r.harnessBestPassNsPerOp, null);
    assert.equal(r.allocatorBestPassNsPerOp, null);
    assert.equal(r.harnessMethod, 'unavailable: no timed passes');
  });
});

describe('replay --breakdown (hakmem)', () => {
  test('time per op kind and tier: every op counted once, in its tier, realloc in place or moved', async () => {
    // tiny 100 B, mid 4000 B, large 9 MB (past current's coalescing tier, 8 MiB); realloc 100 -> 70 stays
    // in place (over half the block), 70 -> 3000 moves to mid.
    const t = traceOf([
      ['m', 0, 100], ['m', 1, 4000], ['m', 2, 9_000_000], ['c', 3, 4, 8],
      ['r', 0, 70], ['r', 0, 3000], ['f', 0], ['f', 1], ['f', 2], ['f', 3],
    ]);
    const file = await binaryFile(t, 'breakdown');
    const r = await runBench({ bench: 'replay', allocator: 'hakmem', threads: 1, engine: 'node', json: true, timeline: null, latency: false, breakdown: true, args: { file, loops: 1 } });
    const b = r.breakdown!;
    const cells = Object.fromEntries(b.rows.map((row) => [`${row.op} ${row.tier}${row.how ? ` ${row.how}` : ''}`, row.count]));
    assert.deepEqual(cells, {
      'malloc tiny': 1, 'malloc mid': 1, 'malloc large': 1, 'calloc tiny': 1,
      'realloc tiny in place': 1, 'realloc mid moved': 1,
      'free mid': 2, 'free large': 1, 'free tiny': 1,
    });
    assert.ok(Math.abs(b.rows.reduce((sum, row) => sum + row.share, 0) - 1) < 1e-9 || b.rows.every((row) => row.totalMs === 0));
    assert.ok(b.rows.every((row) => row.meanNs >= 0 && row.totalMs >= 0));
    assert.ok(b.timerCostNs > 0);
    assert.equal(r.warmupPasses, WARMUP_MAX_PASSES, 'a trace of 10 ops');
    assert.equal(b.routes.large, 3 + WARMUP_MAX_PASSES, 'the large block, freed in each of the footprint, warm-up, timed and breakdown passes');
  });
});

describe('latency histograms', () => {
  test('percentiles of 1..100000 ns, each once, within the bucket resolution', () => {
    const h = newLatencyHistogram();
    for (let v = 1; v <= 100_000; v++) recordLatency(h, v);
    const l = opLatency(h);
    assert.equal(l.count, 100_000);
    assert.equal(l.max, 100_000);
    for (const [name, want] of [['p50', 50_000], ['p90', 90_000], ['p99', 99_000], ['p99.9', 99_900], ['p99.99', 99_990]] as const) {
      assert.ok(Math.abs(l[name] - want) <= want * 1e-3, `${name} ${l[name]}, want ${want}`);
    }
  });

  test('values past the trackable range count as its highest', () => {
    const h = newLatencyHistogram();
    recordLatency(h, 1e12);
    assert.ok(opLatency(h).max <= LATENCY_HISTOGRAM.highestTrackableValue);
  });

  test('the C bucketing is hdr-histogram-js bucketing: same bucket for every value, same percentiles', async () => {
    const bin = await buildNative('replay');
    if (isSkipped(bin)) assert.fail(bin.skipped);
    const values: number[] = [0, 1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 4097, 123_456_789, 1e10 - 1, 1e10];
    let x = 12345;
    for (let k = 0; k < 3000; k++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      values.push(Math.floor(2 ** ((x / 2 ** 32) * 33))); // spread over 1 ns .. 8.6 s, log-uniform
    }
    const out = spawnSync(bin, ['--buckets', ...values.map(String)], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const buckets = out.stdout.trim().split('\n').map(Number);
    const direct = newLatencyHistogram();
    values.forEach((v, k) => {
      assert.equal(buckets[k], (direct as unknown as { lowestEquivalentValue(v: number): number }).lowestEquivalentValue(v), `bucket of ${v}`);
      recordLatency(direct, v);
    });
    const counts = new Map<number, number>();
    for (const b of buckets) counts.set(b, (counts.get(b) ?? 0) + 1);
    const fromC = opLatency(histogramFromBuckets([...counts]), Math.max(...values));
    assert.deepEqual(fromC, opLatency(direct));
  });

  test('replay --latency (TS and C): every op kind the trace has, percentiles in order, the timer cost', async () => {
    const trace = mixedTrace(3_000, 100, 5);
    const file = await binaryFile(trace, 'latency');
    const ts = await runBench({ bench: 'replay', allocator: 'hakmem', threads: 1, engine: 'node', json: true, timeline: null, latency: true, args: { file, loops: 2 } });
    const c = await runBench({ bench: 'replay', allocator: 'system', threads: 1, engine: 'node', json: true, timeline: null, latency: true, args: { file, loops: 2 } });
    for (const r of [ts, c]) {
      const l = r.latency;
      assert.ok(l && l.timerCostNs >= 0 && l.timerCostNs < 10_000);
      assert.deepEqual(Object.keys(l.ops).sort(), ['aligned', 'calloc', 'free', 'malloc', 'realloc']);
      const total = Object.values(l.ops).reduce((s, o) => s + (o?.count ?? 0), 0);
      assert.equal(total, 2 * trace.length);
      for (const o of Object.values(l.ops)) {
        if (!o) continue;
        assert.ok(o.p50 <= o.p90 && o.p90 <= o.p99 && o.p99 <= o['p99.9'] && o['p99.9'] <= o['p99.99'], JSON.stringify(o));
        assert.ok(o['p99.99'] <= o.max * 1.001 + 1, JSON.stringify(o));
      }
    }
  });
});

describe('replay command line', () => {
  const bench = (args: string[]) =>
    spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/bench.ts', ...args], { cwd: ROOT, encoding: 'utf8' });

  test('usage errors: no FILE, --loops 0, a bad --timeline K, flags of other benches', () => {
    const usage = (args: string[], message: string) =>
      assert.throws(() => parseBenchArgs(args, {}), (e: Error) => e instanceof UsageError && e.message === message);
    usage(['replay'], 'replay takes 1 argument (FILE), got 0');
    usage(['replay', 'a', 'b'], 'replay takes 1 argument (FILE), got 2: a b');
    usage(['replay', 'f', '--loops', '0'], "--loops must be a whole number from 1 to 1000000, got '0'");
    usage(['replay', 'f', '--timeline', '0'], `--timeline K must be a whole number from 1 to ${2 ** 53 - 1}, got '0'`);
    usage(['replay', 'f', '--timeline', 'x'], `--timeline K must be a whole number from 1 to ${2 ** 53 - 1}, got 'x'`);
    usage(['random-mixed', '10', '4', '1', '--loops', '2'], '--loops applies to replay only');
    usage(['fixed', '10', '4', '1', '--size', '8', '--latency'], '--latency applies to replay only');
    usage(['larson', '1', '8', '64', '10', '1', '1', '1', '--timeline', '5'], '--timeline applies to random-mixed, fixed and replay only');
    usage(['replay', 'f', '--threads', '2'], '--threads applies to random-mixed and fixed only');
    usage(['fixed', '10', '4', '1', '--size', '8', '--breakdown'], '--breakdown applies to replay only');
    usage(['replay', 'f', '--breakdown', '--allocator', 'system'], "--breakdown applies to --allocator hakmem only (the tiers are hakmem's)");
    const r = parseBenchArgs(['replay', 'f.hktrace', '--timeline', '100', '--latency'], {});
    assert.ok(!('help' in r) && r.bench === 'replay');
    assert.deepEqual(r.args, { file: 'f.hktrace', loops: 1 });
    assert.equal(r.timeline, 100);
    assert.equal(r.latency, true);
    usage(['random-mixed', '10', '4', '1', '--serial'], '--serial applies to replay only');
    const serial = parseBenchArgs(['replay', 'f.hktrace', '--serial'], {});
    assert.ok(!('help' in serial) && serial.bench === 'replay');
    assert.deepEqual(serial.args, { file: 'f.hktrace', loops: 1, serial: true });
  });

  test('exit 2 with usage for a bad command line; non-zero and the file named for a missing or broken trace', () => {
    const none = bench(['replay']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /replay takes 1 argument/);
    const missing = path.join(scratch, 'no-such.trace');
    const r = bench(['replay', missing, '--json']);
    assert.notEqual(r.status, 0);
    assert.ok(r.stderr.includes(missing), r.stderr);
    assert.equal(r.stdout, '');
    const broken = path.join(scratch, 'broken.trace');
    writeFileSync(broken, readFileSync(path.join(ROOT, 'package.json')));
    const b = bench(['replay', broken, '--json']);
    assert.notEqual(b.status, 0);
    assert.ok(b.stderr.includes(broken), b.stderr);
  });

  test('an out-of-memory trace is a skipped row naming the op (hakmem and glibc)', async () => {
    const file = await binaryFile(traceOf([['m', 0, 16], ['m', 1, 2 ** 45]]), 'oom');
    for (const allocator of ['hakmem', 'system'] as const) {
      const r = await runBench({ bench: 'replay', allocator, threads: 1, engine: 'node', json: true, timeline: null, latency: false, args: { file, loops: 1 } });
      assert.match(r.skipped ?? '', new RegExp(`^${allocator}: out of memory at op 1 \\(ID 1, ${2 ** 45} bytes\\)`));
      assert.equal(r.opsPerSec, null);
    }
  });

  test('replay --json: footprint, utilization and the timeline; random-mixed --timeline too', async () => {
    const file = await binaryFile(bigTrace, 'json');
    const facts = replayFacts(bigTrace);
    for (const allocator of ['hakmem', 'system', 'thing'] as const) {
      const r = await runBench({ bench: 'replay', allocator, threads: 1, engine: 'node', json: true, timeline: 5000, latency: false, args: { file, loops: 1 } });
      assert.equal(r.peakLiveBytes, facts.peakLiveBytes);
      assert.ok(r.peakFootprintBytes && r.peakFootprintBytes >= facts.peakLiveBytes * 0.9, `${allocator} ${r.peakFootprintBytes}`);
      assert.equal(r.utilization, facts.peakLiveBytes / (r.peakFootprintBytes as number));
      assert.equal(r.timeline?.length, Math.ceil(bigTrace.length / 5000));
      if (allocator === 'hakmem') {
        // Resident bytes, with the tiers' peak (which leaves out pages given back) as the second reading.
        assert.match(r.footprintMethod ?? '', /resident bytes/);
        const tiers = r.footprintByStats?.bytes ?? 0;
        assert.ok(tiers >= facts.peakLiveBytes && tiers <= (r.peakFootprintBytes as number), `tiers' peak ${tiers}`);
        assert.match(r.footprintByStats?.method ?? '', /tiers' peak/);
      }
    }
    const rm = await runBench({ bench: 'fixed', allocator: 'system', threads: 1, engine: 'node', json: true, timeline: 2000, latency: false, args: { cycles: 10_000, ws: 400, seed: 1, min: 4096, max: 4096 } });
    assert.equal(rm.timeline?.length, 5);
    assert.ok(rm.timeline?.every((s) => s.footprintBytes !== null && s.liveBytes <= s.footprintBytes));
  });
});
