/**
 * The WebAssembly allocators (lib/bench/adapters/wasm.ts): traces and random-mixed replayed with their
 * fingerprints, blocks intact across memory.grow, aligned and zeroed blocks, what the footprint counts,
 * and the skipped result of a missing toolchain. Each test is skipped, with the reason, where its
 * module cannot be built here.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { FootprintProbe } from '../lib/bench/adapters/allocator-adapter';
import { WASM_ALLOCATORS, type WasmAllocatorName } from '../lib/bench/adapters/allocators';
import { createWasmAllocator, type WasmAllocator } from '../lib/bench/adapters/wasm';
import { runBenchProcess } from '../lib/bench/bench-process';
import { parseBenchArgs, UsageError } from '../lib/bench/cli-args';
import { planRuns } from '../lib/bench/matrix/matrix';
import { runBench } from '../lib/bench/runner';
import { replayTrace } from '../lib/bench/workloads/replay';
import { replayFacts } from '../lib/bench/workloads/replay-facts';
import { isSkipped } from '../lib/build/build-c';
import { readManifest } from '../lib/trace/bundle';
import { TraceBuilder } from '../lib/trace/trace-builder';
import { OP_ALIGNED, OP_CALLOC, OP_FREE, OP_MALLOC, OP_REALLOC } from '../lib/trace/trace';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'hakmem-wasm-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A fresh instance of the allocator, or the reason it cannot be built here (the test is then skipped). */
async function fresh(name: WasmAllocatorName, t: { skip(reason: string): void }): Promise<WasmAllocator | null> {
  const a = await createWasmAllocator(name);
  if (!isSkipped(a)) return a;
  t.skip(a.skipped);
  return null;
}

const request = { threads: 1, engine: 'node', json: true, timeline: null, latency: false } as const;

for (const name of WASM_ALLOCATORS) {
  describe(name, () => {
    test('replays a built trace of every op kind with its fingerprint', async (t) => {
      const a = await fresh(name, t);
      if (!a) return;
      const b = new TraceBuilder();
      const ops: [number, number, number, number][] = [
        [OP_MALLOC, 1, 100, 0],
        [OP_CALLOC, 2, 24, 10],
        [OP_ALIGNED, 3, 300, 4096],
        [OP_MALLOC, 4, 0, 0],
        [OP_REALLOC, 1, 5000, 0],
        [OP_REALLOC, 3, 20, 0],
        [OP_FREE, 2, 0, 0],
        [OP_MALLOC, 5, 1 << 20, 0],
        [OP_FREE, 1, 0, 0],
        [OP_FREE, 5, 0, 0],
      ];
      for (const [kind, id, size, aux] of ops) assert.equal(b.add(kind, id, size, aux, 0), null);
      const trace = b.finish();
      const facts = replayFacts(trace);
      const r = replayTrace(a, trace, facts, { loops: 2 });
      assert.deepEqual(r.fingerprint, facts.fingerprint);
      assert.ok(r.peakFootprintBytes !== null && r.peakFootprintBytes >= 1 << 20, `footprint ${r.peakFootprintBytes}`);
    });

    test('replays every bundled trace with its fingerprint (the runner checks it)', async (t) => {
      if (!(await fresh(name, t))) return;
      for (const trace of readManifest()) {
        const r = await runBench({ ...request, bench: 'replay', allocator: name, args: { file: trace.path, loops: 1 } });
        assert.equal(r.skipped, null, `${trace.name}: ${r.skipped}`);
        assert.ok(r.utilization !== null && r.utilization! > 0 && r.utilization! <= 1, `${trace.name}: utilization ${r.utilization}`);
        assert.match(r.footprintMethod ?? '', /program break/);
      }
    });

    test('random-mixed runs with the loop fingerprint (the runner checks it)', async (t) => {
      if (!(await fresh(name, t))) return;
      const r = await runBench({ ...request, bench: 'random-mixed', allocator: name, args: { cycles: 50_000, ws: 400, seed: 1, min: 16, max: 1024 } });
      assert.equal(r.ops, 50_000);
      assert.equal(r.fingerprint?.mallocs! + r.fingerprint?.frees!, 50_000);
    });

    test('blocks keep their bytes when memory.grow moves the memory to a new buffer', async (t) => {
      const a = await fresh(name, t);
      if (!a) return;
      const p = a.target.malloc(1000);
      a.fill(p, 1000, 0x5a);
      const probe = a.footprint as FootprintProbe;
      const before = probe.current();
      const big = a.target.malloc(64 << 20);
      assert.notEqual(big, 0);
      // Less what the heap had free below the break already.
      assert.ok(probe.current() >= before + (63 << 20), 'the break, and with it the memory, grew');
      a.touch(big, 64 << 20, 7); // through the refreshed view
      assert.equal(a.byteAt(big, (64 << 20) - 1), 7);
      for (const offset of [0, 499, 999]) assert.equal(a.byteAt(p, offset), 0x5a);
      a.target.free(big);
      a.target.free(p);
    });

    test('aligned blocks are aligned, from 1 to 64 KiB', async (t) => {
      const a = await fresh(name, t);
      if (!a) return;
      for (let alignment = 1; alignment <= 65536; alignment *= 2) {
        for (const size of [1, 24, 1000]) {
          const p = a.alignedAlloc(alignment, size);
          assert.notEqual(p, 0, `aligned ${alignment}, ${size} bytes`);
          assert.ok(a.isAligned(p, alignment), `${p} is not a multiple of ${alignment}`);
          a.fill(p, size, 1);
          a.freeAligned(p);
        }
      }
    });

    test('calloc zeroes a reused block', async (t) => {
      const a = await fresh(name, t);
      if (!a) return;
      for (const size of [16, 200, 5000, 100_000]) {
        const p = a.target.malloc(size);
        a.fill(p, size, 0xff);
        a.target.free(p);
        const q = a.calloc(size / 8, 8);
        assert.notEqual(q, 0);
        for (let i = 0; i < size; i++) if (a.byteAt(q, i) !== 0) assert.fail(`calloc(${size / 8}, 8): byte ${i} is ${a.byteAt(q, i)}`);
        a.target.free(q);
      }
    });

    test('the footprint is the heap up to the program break, and follows it', async (t) => {
      const a = await fresh(name, t);
      if (!a) return;
      const probe = a.footprint;
      assert.ok(!('unavailable' in probe));
      const start = probe.current();
      assert.equal(start % 4096, 0);
      const p = a.target.malloc(8 << 20);
      a.fill(p, 8 << 20, 1);
      const grown = probe.current();
      assert.ok(grown - start >= 8 << 20 && grown - start < (8 << 20) + (1 << 20), `${start} -> ${grown}`);
      assert.equal(probe.peak(), grown);
    });
  });
}

describe('memory of a wasm module', () => {
  const statm = '/proc/self/statm';
  const residentBytes = () => Number(readFileSync(statm, 'utf8').split(' ')[1]) * 4096;

  test('pages memory.grow added are resident only once written', async (t) => {
    if (!existsSync(statm)) return t.skip('no /proc/self/statm here');
    const a = await fresh('wasm-dlmalloc', t);
    if (!a) return;
    const size = 128 << 20;
    const before = residentBytes();
    const p = a.target.malloc(size);
    assert.notEqual(p, 0);
    const grown = residentBytes() - before;
    a.fill(p, size, 1);
    const written = residentBytes() - before;
    assert.ok(grown < 16 << 20, `grown, unwritten: ${grown} bytes resident`);
    assert.ok(written > size - (16 << 20), `written: ${written} bytes resident`);
  });
});

describe('what the wasm allocators refuse or skip', () => {
  test('threads: no shared-memory build, refused with the reason', () => {
    assert.throws(
      () => parseBenchArgs(['larson', '1', '8', '64', '100', '10', '1', '2', '--allocator', 'wasm-dlmalloc']),
      (e: unknown) => e instanceof UsageError && /larson with THREADS > 1 needs an allocator whose heap worker threads can share: .*wasm-dlmalloc has no shared heap: no shared-memory build/.test(e.message),
    );
    assert.throws(() => parseBenchArgs(['cross-thread', '1000', '10', '1', '2', '--allocator', 'wasm-emmalloc']), /no shared-memory build/);
    const runs = planRuns({ reps: 1, threads: [1, 2], allocators: WASM_ALLOCATORS.map((allocator) => ({ allocator, preset: null, align: null })) });
    assert.ok(runs.length > 0 && runs.every((r) => r.threads === 1));
  });

  test('a missing compiler is skipped with the reason and the Debian package', async () => {
    for (const name of WASM_ALLOCATORS) {
      const r = await createWasmAllocator(name, { compiler: 'no-such-compiler-for-hakmem', cacheDir: path.join(scratch, name) });
      assert.ok(isSkipped(r));
      assert.match(r.skipped, new RegExp(`^${name}: no C compiler: 'no-such-compiler-for-hakmem' is not installed \\(install the Debian package (clang-14|emscripten)\\)`));
    }
  });

  test('the bench command reports the missing toolchain as a skipped result (HAKMEM_EMCC)', async () => {
    const { done } = runBenchProcess(['random-mixed', '1000', '10', '1', '--allocator', 'wasm-emmalloc'], { HAKMEM_EMCC: 'no-such-emcc-for-hakmem' });
    const outcome = await done;
    assert.ok('result' in outcome, 'error' in outcome ? outcome.error : '');
    assert.match(outcome.result.skipped ?? '', /wasm-emmalloc: no C compiler: 'no-such-emcc-for-hakmem'.*emscripten/);
  });
});
