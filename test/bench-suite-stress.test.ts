/**
 * mimalloc-bench's stress tests as workloads (lib/bench/workloads/WORKLOADS.md, "Suite stress tests"):
 * cache-scratch, cache-thrash, rptest, sh6bench and sh8bench at tiny sizes do the same work in
 * TypeScript on hakmem's shared heap (worker threads) and in their C harness on glibc, proven by equal
 * fingerprints, both equal to the one each workload computes without allocating; bad arguments are
 * refused by the CLI and by the harness, each naming what is wrong.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBenchArgs, UsageError } from '../lib/bench/cli-args';
import { runNative } from '../lib/bench/native/run-native';
import { runBench } from '../lib/bench/runner';
import { suiteArgv, type Workload } from '../lib/bench/workloads/workload';
import { workloadNamed } from '../lib/bench/workloads/registry';
import { benchRequest } from './fixtures/bench-request';
import { assertNativeMatchesReference } from './fixtures/native-reference';

const T = { timeout: 120_000 };
const SUITE = ['cache-scratch', 'cache-thrash', 'rptest', 'sh6bench', 'sh8bench'];

describe('suite stress tests: TypeScript on hakmem and C on glibc do the same work', () => {
  for (const name of SUITE) {
    const w: Workload = workloadNamed(name);
    const argv = suiteArgv(w, 'tiny');
    it(`${name} ${argv.join(' ')}: equal fingerprints; memory measured on both`, T, async () => {
      const ts = await runBench(benchRequest([name, ...argv, '--allocator', 'hakmem']));
      const c = await runBench(benchRequest([name, ...argv, '--allocator', 'system']));
      assert.equal(c.skipped, null, `native ${name} skipped: ${c.skipped}`);
      assert.deepEqual(ts.fingerprint, c.fingerprint);
      assert.deepEqual(ts.fingerprint, w.fingerprint!(ts.args as Record<string, number>));
      assert.ok(ts.fingerprint!.mallocs > 0 && ts.ops! > 0 && c.ops === ts.ops, `${ts.ops} and ${c.ops} ops`);
      // sh6bench, as the suite runs it, overwrites its kept window when the walk wraps to slot 0: those blocks are never freed.
      if (name === 'sh6bench') assert.ok(ts.fingerprint!.frees < ts.fingerprint!.mallocs);
      else assert.equal(ts.fingerprint!.frees, ts.fingerprint!.mallocs);
      assert.ok(ts.peakHeapBytes! > 0, `hakmem peak ${ts.peakHeapBytes}`);
      assert.ok(typeof c.peakHeapBytes === 'number' && c.peakHeapBytes >= 0, `glibc peak resident growth ${c.peakHeapBytes}`);
    });
  }

  // Threads that do not divide the counts evenly, and a thread count of one.
  const uneven: [string, number[]][] = [
    ['sh8bench', [3, 50, 301, 100]],
    ['rptest', [3, 1, 12, 30, 40, 16, 3000, 2, 9]],
    ['rptest', [1, 2, 12, 30, 40, 16, 3000, 0, 9]],
    ['sh6bench', [3, 11, 60]],
    ['cache-scratch', [3, 7, 5, 10]],
  ];
  for (const [name, args] of uneven) {
    it(`native ${name} ${args.join(' ')} matches the reference fingerprint`, T, async () => {
      const { result } = await assertNativeMatchesReference(name, args);
      assert.equal(result.threads, args[0]);
    });
  }
});

describe('suite stress tests: bad arguments', () => {
  const refused: [string[], RegExp][] = [
    [['cache-thrash', '0'], /THREADS must be a whole number from 1 to 1024, got '0'/],
    [['cache-scratch', '4', '10', '1', '3'], /REPETITIONS \(3\) must be at least THREADS \(4\)/],
    [['cache-thrash', '2', '10', '2000000'], /SIZE must be a whole number from 1 to 1048576/],
    [['sh6bench', '8', '4'], /CALLS \(4\) must be at least THREADS \(8\)/],
    [['sh6bench', '2', '100', '1'], /MAXSIZE must be a whole number from 2/],
    [['sh8bench', '4', '2', '100', '0'], /ITERATIONS \(2\) and HEAPSIZE \(100\) must each be at least THREADS \(4\)/],
    [['rptest', '2', '2', '10', '50', '20', '100', '50'], /MAX \(50\) must be at least MIN \(100\)/],
    [['rptest', '2', '2', '10', '50', '20', '8', '2000', '3'], /SIZEMODE must be a whole number from 0 to 2, got '3'/],
    [['rptest', '2', '2', '10', '50', '20', '8', '2000', '1', '1', '9'], /rptest takes 0 to 9 arguments/],
  ];
  for (const [argv, message] of refused) {
    it(`bench ${argv.join(' ')} is a usage error`, () => {
      assert.throws(() => parseBenchArgs(argv, {}), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(' '));
    });
  }
  it('bench rptest on v8 says it needs a heap threads share', async () => {
    const r = await runBench(benchRequest(['rptest', '1', '0', '2', '10', '10', '8', '64', '0', '1', '--allocator', 'v8']));
    assert.match(r.skipped ?? '', /rptest runs on threads sharing one heap: v8 has no heap worker threads can share/);
  });

  const harnessRefuses: [string, number[], RegExp][] = [
    ['rptest', [2, 2, 10, 50, 20, 8, 2000, 3, 1], /SIZEMODE must be a whole number in \[0, 2\], got '3'/],
    ['sh8bench', [2, 1, 10, 0], /ITERATIONS must be a whole number in \[2, /],
    ['cache-thrash', [2, 10, 1], /expected 4 arguments/],
  ];
  for (const [harness, args, message] of harnessRefuses) {
    it(`native ${harness} ${args.join(' ')} exits with a usage error`, T, async () => {
      await assert.rejects(runNative('system', harness, args), (e: Error) => /exit code 2/.test(e.message) && message.test(e.message));
    });
  }
});
