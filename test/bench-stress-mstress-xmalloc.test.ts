/**
 * mimalloc-bench's mstress and xmalloc-test as workloads (lib/bench/workloads/WORKLOADS.md) at tiny
 * sizes: the TypeScript run on hakmem's shared heap (worker threads) and the C harness on glibc do the
 * same work, proven by equal fingerprints, both equal to the one each workload computes without
 * allocating; bad arguments are refused by the CLI and by the harness, each naming what is wrong.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBenchArgs, UsageError } from '../lib/bench/cli-args';
import { runNative } from '../lib/bench/native/run-native';
import { runBench } from '../lib/bench/runner';
import { workloadNamed } from '../lib/bench/workloads/registry';
import { suiteArgv } from '../lib/bench/workloads/workload';
import { benchRequest } from './fixtures/bench-request';
import { assertNativeMatchesReference } from './fixtures/native-reference';

const T = { timeout: 120_000 };

describe('mstress and xmalloc-test: TypeScript on hakmem and C on glibc do the same work', () => {
  const runs: [string, string[]][] = [
    ['mstress', suiteArgv(workloadNamed('mstress'), 'tiny')],
    ['xmalloc-test', suiteArgv(workloadNamed('xmalloc-test'), 'tiny')],
    // Mixed sizes (drawn by each producer).
    ['xmalloc-test', ['1', '2', '0']],
  ];
  for (const [name, argv] of runs) {
    it(`${name} ${argv.join(' ')}: equal fingerprints, every block freed, memory measured`, T, async () => {
      const w = workloadNamed(name);
      const ts = await runBench(benchRequest([name, ...argv, '--allocator', 'hakmem']));
      const c = await runBench(benchRequest([name, ...argv, '--allocator', 'system']));
      assert.equal(c.skipped, null, `native ${name} skipped: ${c.skipped}`);
      assert.equal(ts.skipped, null);
      assert.deepEqual(ts.fingerprint, c.fingerprint);
      assert.deepEqual(ts.fingerprint, w.fingerprint!(ts.args as Record<string, number>));
      const f = ts.fingerprint!;
      assert.equal(f.frees, f.mallocs, 'every block freed, by whichever thread');
      assert.ok(f.mallocs > 0 && f.bytes > 0);
      assert.equal(ts.ops, f.mallocs + f.frees);
      assert.equal(c.ops, ts.ops);
      assert.equal(ts.threads, w.threads!(ts.args));
      assert.ok(ts.peakHeapBytes! > 0, `hakmem peak ${ts.peakHeapBytes}`);
      assert.ok(typeof c.peakHeapBytes === 'number' && c.peakHeapBytes >= 0, `glibc peak resident growth ${c.peakHeapBytes}`);
    });
  }

  // Uneven thread counts (each thread's work differs), natively only: a worker costs more than these runs.
  const native: [string, number[]][] = [
    ['mstress', [3, 3, 2]],
    ['mstress', [1, 1, 1]],
    ['xmalloc-test', [3, 2, 0]],
  ];
  for (const [name, args] of native) {
    it(`native ${name} ${args.join(' ')} matches the reference fingerprint`, T, async () => {
      const { result, args: parsed } = await assertNativeMatchesReference(name, args);
      assert.equal(result.threads, workloadNamed(name).threads!(parsed));
    });
  }

  it('the fingerprints see the work: rounds repeat, threads differ, sizes count', () => {
    const m = workloadNamed('mstress');
    const one = m.fingerprint!({ threads: 2, scale: 2, iter: 1 });
    const three = m.fingerprint!({ threads: 2, scale: 2, iter: 3 });
    assert.equal(three.mallocs, 3 * one.mallocs);
    assert.equal(three.bytes, 3 * one.bytes);
    // Thread t makes 150 * SCALE * (t % 8 + 1) blocks a round: threads 0 and 1, 300 + 600.
    assert.equal(one.mallocs, 900);
    assert.notDeepEqual(m.fingerprint!({ threads: 3, scale: 2, iter: 1 }).hash, one.hash);
    const x = workloadNamed('xmalloc-test');
    const fixed = x.fingerprint!({ threads: 2, batches: 3, size: 64 });
    assert.equal(fixed.mallocs, 2 * 3 * 4097);
    assert.equal(fixed.bytes, 2 * 3 * (32776 + 4096 * 64));
    const mixed = x.fingerprint!({ threads: 2, batches: 3, size: 0 });
    assert.equal(mixed.mallocs, fixed.mallocs);
    assert.ok(mixed.bytes > 2 * 3 * (32776 + 4096 * 8) && mixed.bytes < 2 * 3 * (32776 + 4096 * 2048));
    assert.notEqual(mixed.hash, fixed.hash);
  });
});

describe('mstress and xmalloc-test: bad arguments', () => {
  const refused: [string[], RegExp][] = [
    [['mstress', '0'], /THREADS must be a whole number from 1 to 64, got '0'/],
    [['mstress', '2', '0'], /SCALE must be a whole number from 1 to 10000, got '0'/],
    [['mstress', '2', '50', '25', '1'], /mstress takes 0 to 3 arguments/],
    [['xmalloc-test', '9'], /THREADS must be a whole number from 1 to 8, got '9'/],
    [['xmalloc-test', '2', '10', '4096'], /SIZE must be a whole number from 0 to 2048, got '4096'/],
    [['xmalloc-test', '2', 'many'], /BATCHES must be a whole number from 1 to \d+, got 'many'/],
  ];
  for (const [argv, message] of refused) {
    it(`bench ${argv.join(' ')} is a usage error`, () => {
      assert.throws(() => parseBenchArgs(argv, {}), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(' '));
    });
  }

  it('mstress on one thread on v8 is skipped: it needs a heap threads share', async () => {
    const r = await runBench(benchRequest(['mstress', '1', '1', '1', '--allocator', 'v8']));
    assert.match(r.skipped ?? '', /mstress runs on threads sharing one heap: v8 has no heap worker threads can share/);
  });

  it('xmalloc-test on v8 is refused: a producer and a consumer are two threads', () => {
    assert.throws(
      () => parseBenchArgs(['xmalloc-test', '1', '1', '--allocator', 'v8'], {}),
      (e: unknown) => e instanceof UsageError && /xmalloc-test with 2 threads needs an allocator whose heap worker threads can share/.test(e.message),
    );
  });

  const harnessRefuses: [string, number[], RegExp][] = [
    ['mstress', [2, 0, 1], /SCALE must be a whole number in \[1, 10000\], got '0'/],
    ['xmalloc-test', [2, 10], /takes 3 arguments \(THREADS BATCHES SIZE\)/],
    ['xmalloc-test', [2, 10, 2049], /SIZE must be a whole number in \[0, 2048\], got '2049'/],
  ];
  for (const [harness, args, message] of harnessRefuses) {
    it(`native ${harness} ${args.join(' ')} exits with a usage error`, T, async () => {
      await assert.rejects(runNative('system', harness, args), (e: Error) => /exit code 2/.test(e.message) && message.test(e.message));
    });
  }
});
