/**
 * The native replayer's footprints and its oracle (WORKLOADS.md "replay"): its own arrays do not count as
 * the allocator's, glibc's growth counted page by page holds at least its live chunks (serially and on
 * threads), the allocator's own statistics give a second footprint, and the oracle (the harness with no
 * allocator work) replays every bundled trace with the allocator's fingerprint.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { binaryTraceFile } from '../lib/bench/native/binary-trace';
import { isSkipped, NATIVE_ALLOCATORS, runNative, type NativeResult } from '../lib/bench/native/run-native';
import { replayFacts } from '../lib/bench/workloads/replay-facts';
import { readTrace } from '../lib/trace/read';
import { blankTrace, OP_FREE, OP_MALLOC, type Trace } from '../lib/trace/trace';
import { writeTrace } from '../lib/trace/write';

const TRACES = path.join(path.resolve(__dirname, '..'), 'data', 'traces');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'hakmem-replay-footprint-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** `ids` blocks of `size` bytes, each ID used once: at most `window` live (the oldest freed first). */
function neverReused(ids: number, size: number, window: number): Trace {
  const t = blankTrace(2 * ids);
  let k = 0;
  const op = (kind: number, id: number, bytes: number) => {
    t.kind[k] = kind;
    t.id[k] = id;
    t.size[k] = bytes;
    k++;
  };
  for (let id = 0; id < ids; id++) {
    if (id >= window) op(OP_FREE, id - window, 0);
    op(OP_MALLOC, id, size);
  }
  for (let id = Math.max(0, ids - window); id < ids; id++) op(OP_FREE, id, 0);
  return t;
}

async function replay(allocator: (typeof NATIVE_ALLOCATORS)[number], args: (string | number)[]): Promise<NativeResult | null> {
  const r = await runNative(allocator, 'replay', args);
  if (isSkipped(r)) {
    if (allocator === 'system') assert.fail(`system replay skipped: ${r.skipped}`);
    return null; // a preload that is not installed here
  }
  return r;
}

describe('native replay footprint', () => {
  test("a trace of 500k IDs never reused: glibc's footprint does not include the replayer's per-ID arrays", async () => {
    const trace = neverReused(500_000, 32, 100);
    const file = path.join(scratch, 'never-reused.hktrace');
    await writeTrace(trace, file);
    const facts = replayFacts(trace);
    assert.equal(facts.peakLiveBytes, 100 * 32);
    const r = (await replay('system', [file, 0]))!;
    const peak = r.line.peakFootprintBytes as number | null;
    if (peak === null) return; // clear_refs not writable here: no resident footprint to check
    // The per-ID arrays alone are 17 bytes * 500k = 8.5 MB; glibc reuses a handful of 48-byte chunks.
    assert.ok(peak < 2 ** 20, `peak resident growth ${peak} bytes for ${facts.peakLiveBytes} live bytes`);
  });

  // glibc's chunk for a request of n bytes: n + 8 rounded up to 16, at least 32 (64-bit).
  const glibcChunk = (n: number) => Math.max(32, (n + 8 + 15) & ~15);
  /** Why the page-by-page count cannot be checked against glibc's chunks here, or null. */
  function exactUnusable(): string | null {
    if (!existsSync('/proc/self/smaps_rollup')) return 'no /proc/self/smaps_rollup here: the footprint is the kernel high-water mark';
    const thp = '/sys/kernel/mm/transparent_hugepage/enabled';
    if (existsSync(thp) && readFileSync(thp, 'utf8').includes('[always]')) return 'transparent huge pages are always on: a write makes 2 MiB resident';
    return null;
  }

  /** `blocks` mallocs of `size` bytes on each of `threads` recorded threads in turn, all live, then all freed. */
  function allLive(blocks: number, size: number, threads: number): Trace {
    const t = blankTrace(2 * blocks * threads);
    let k = 0;
    for (const kind of [OP_MALLOC, OP_FREE]) {
      for (let id = 0; id < blocks * threads; id++, k++) {
        t.kind[k] = kind;
        t.id[k] = id;
        t.size[k] = kind === OP_MALLOC ? size : 0;
        t.thread[k] = id % threads;
      }
    }
    return t;
  }

  for (const threads of [1, 2]) {
    test(`${threads} thread(s): glibc's resident growth is counted page by page, at least the chunks it keeps live`, async (t) => {
      const unusable = exactUnusable();
      if (unusable) return t.skip(unusable);
      const file = path.join(scratch, `all-live-${threads}.hktrace`);
      await writeTrace(allLive(40_000 / threads, 100, threads), file);
      const r = (await replay('system', [file, 0]))!;
      assert.match(r.line.footprintMethod as string, /page by page/);
      const chunks = 40_000 * glibcChunk(100); // 4.27 MiB, every byte of it written
      const peak = r.line.peakFootprintBytes as number;
      // Below: at most the few KiB glibc held free before the pass. Above: its arena and top-chunk pages.
      // The kernel's per-CPU resident counters lag the page tables by up to some 400 KiB while pages fault in.
      assert.ok(peak >= chunks - 16 * 1024, `peak resident growth ${peak} bytes, glibc's chunks ${chunks} bytes`);
      assert.ok(peak <= chunks + 256 * 1024, `peak resident growth ${peak} bytes, glibc's chunks ${chunks} bytes`);
    });
  }

  test('footprintByStats: a byte count and its method for system and each installed preload', async () => {
    const file = path.join(scratch, 'stats.hktrace');
    await writeTrace(neverReused(20_000, 3000, 2_000), file); // 6 MB live at the peak
    for (const allocator of NATIVE_ALLOCATORS) {
      const r = await replay(allocator, [file, 0]);
      if (!r) continue;
      const stats = r.line.footprintByStats as { bytes: number | null; method: string };
      assert.equal(typeof stats.method, 'string', allocator);
      assert.ok(stats.method.length > 0, allocator);
      assert.equal(typeof stats.bytes, 'number', `${allocator}: ${stats.method}`);
      // what the allocator held before the pass (e.g. glibc's first 132 KiB of heap) is not counted
      assert.ok(stats.bytes! >= 0.9 * 6_000_000, `${allocator}: ${stats.bytes} bytes by ${stats.method}`);
    }
  });
});

describe('native replay oracle', () => {
  test('harnessSeconds is positive and below the allocator\'s seconds, with the method named', async () => {
    // Blocks above glibc's largest mmap threshold (32 MiB): every malloc and free a system call, so the
    // allocator's passes take far longer than the oracle's also on a busy machine.
    const file = path.join(scratch, 'oracle.hktrace');
    await writeTrace(neverReused(10, 40 << 20, 1), file);
    const r = (await replay('system', [file, 3]))!;
    const harness = r.line.harnessSeconds as number;
    assert.equal(typeof harness, 'number');
    assert.ok(harness > 0 && harness < r.seconds, `harness ${harness} s, allocator ${r.seconds} s`);
    assert.match(r.line.oracleMethod as string, /last warm-up pass.*mirror/);
    // The fastest of the 3 passes, each side: above 0, at most a third of the sum.
    const [best, harnessBest] = [r.line.bestPassSeconds as number, r.line.harnessBestPassSeconds as number];
    assert.ok(best > 0 && best <= r.seconds / 3 + 1e-9, `fastest pass ${best} s of ${r.seconds} s`);
    assert.ok(harnessBest > 0 && harnessBest <= harness / 3 + 1e-9, `oracle's fastest pass ${harnessBest} s of ${harness} s`);
  });

  test('LOOPS 0: no timed pass, no harness time', async () => {
    const file = path.join(scratch, 'none.hktrace');
    await writeTrace(neverReused(1_000, 16, 10), file);
    const r = (await replay('system', [file, 0]))!;
    assert.equal(r.line.harnessSeconds, 0);
    assert.equal(r.line.bestPassSeconds, undefined);
    assert.equal(r.line.harnessBestPassSeconds, undefined);
  });

  // The replayer checks in C that the oracle's fingerprint is the allocator's and fails otherwise.
  const bundled = existsSync(TRACES) ? readdirSync(TRACES).filter((f) => /\.(hktrace|trace)(\.gz)?$/.test(f)) : [];
  for (const name of bundled) {
    test(`bundled trace ${name}: the oracle replays it with glibc's fingerprint and passes its byte checks`, async () => {
      const file = path.join(TRACES, name);
      const trace = await readTrace(file);
      // --serial: a multi-threaded trace's oracle runs on one thread (on threads there is none).
      const r = (await replay('system', [await binaryTraceFile(file, trace), 1, '--serial']))!;
      assert.deepEqual(r.fingerprint, replayFacts(trace).fingerprint);
      assert.ok((r.line.harnessSeconds as number) > 0);
    });
  }
});
