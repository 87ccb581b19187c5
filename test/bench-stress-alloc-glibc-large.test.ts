/**
 * The mimalloc-bench stress tests registered as workloads (alloc-test, glibc-simple, glibc-thread,
 * malloc-large) at tiny arguments: the TypeScript run on hakmem and the C harness on glibc do the
 * same work (equal fingerprints, both equal to the one computed from the arguments) and report their
 * peak memory (hakmem's heap, the harness's resident growth), bad arguments
 * are refused naming the argument, and the matrix's suite profile plans every allocator's cell.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBenchArgs, UsageError } from '../lib/bench/cli-args';
import { cannotRun, planRuns } from '../lib/bench/matrix/matrix';
import { parseAllocatorSpecs } from '../lib/bench/matrix/matrix-args';
import { runBench } from '../lib/bench/runner';
import { suiteWorkloads, workloadNamed } from '../lib/bench/workloads/registry';
import { suiteArgv } from '../lib/bench/workloads/workload';
import { benchRequest } from './fixtures/bench-request';

const MINE = ['alloc-test', 'glibc-simple', 'glibc-thread', 'malloc-large'];

describe('stress tests: TypeScript on hakmem and C on glibc, same work', () => {
  for (const name of MINE) {
    it(`${name} at its tiny suite arguments`, async () => {
      const w = workloadNamed(name);
      const argv = [name, ...suiteArgv(w, 'tiny')];
      const ts = await runBench(benchRequest([...argv, '--allocator', 'hakmem']));
      const c = await runBench(benchRequest([...argv, '--allocator', 'system']));
      assert.equal(c.skipped, null, `system skipped: ${c.skipped}`);
      assert.equal(ts.skipped, null);
      assert.deepEqual(ts.fingerprint, c.fingerprint);
      assert.deepEqual(ts.fingerprint, w.fingerprint!(benchRequest(argv).args));
      assert.equal(ts.ops, c.ops);
      const f = ts.fingerprint!;
      assert.equal(f.mallocs, f.frees, 'every block freed');
      assert.ok(f.bytes > 0 && f.hash > 0);
      assert.ok(ts.peakHeapBytes! > 0, `hakmem peak ${ts.peakHeapBytes}`);
      assert.ok(typeof c.peakHeapBytes === 'number' && c.peakHeapBytes >= 0, `glibc peak resident growth ${c.peakHeapBytes}`);
      // Blocks of 5 MiB and more, written whole, are resident while they live.
      if (name === 'malloc-large') assert.ok(c.peakHeapBytes >= 5 * 2 ** 20, `glibc peak resident growth ${c.peakHeapBytes}`);
    });
  }

  it('other arguments give another fingerprint (the fingerprint sees the work)', () => {
    const w = workloadNamed('alloc-test');
    assert.notDeepEqual(w.fingerprint!({ threads: 2, iters: 1000, items: 32768, seed: 41 }), w.fingerprint!({ threads: 2, iters: 1000, items: 32768, seed: 42 }));
  });
});

describe('stress tests: bad arguments', () => {
  const errors: Array<[string[], RegExp]> = [
    [['glibc-simple', '100'], /ITERS must be a whole number from 1600 to \d+, got '100'/],
    [['glibc-simple', '2000', '16', '3'], /glibc-simple takes 0 to 2 arguments \(\[ITERS\] \[SIZE\]\), got 3/],
    [['glibc-thread', '0'], /THREADS must be a whole number from 1 to 256, got '0'/],
    [['glibc-thread', '2', '10', '--allocator', 'thing'], /glibc-thread with 2 threads needs an allocator whose heap worker threads can share: .*thing has no shared heap/],
    [['alloc-test', '4', '1000', '32768'], /alloc-test: ITEMS \/ THREADS must be at least 16384 slots, got 8192/],
    [['malloc-large', 'many'], /ITERS must be a whole number from 1 to \d+, got 'many'/],
    [['malloc-large', '10', '--size', '8'], /--size applies to fixed only/],
  ];
  for (const [argv, message] of errors) {
    it(`rejects: ${argv.join(' ')}`, () => {
      assert.throws(() => parseBenchArgs(argv, {}), (e: unknown) => e instanceof UsageError && message.test(e.message));
    });
  }

  it('a threaded test on an allocator without a shared heap is skipped with the reason', async () => {
    const r = await runBench(benchRequest(['glibc-thread', '1', '100', '--allocator', 'v8']));
    assert.match(r.skipped ?? '', /glibc-thread runs on threads sharing one heap: v8 has no heap worker threads can share/);
  });
});

describe('matrix suite profiles', () => {
  it('plan every suite workload on every allocator; the cells that cannot run say why', () => {
    const allocators = parseAllocatorSpecs('hakmem,system,v8');
    const runs = planRuns({ reps: 1, allocators, threads: [1], suite: 'tiny' });
    assert.deepEqual([...new Set(runs.map((r) => r.bench))], suiteWorkloads().map((w) => w.name));
    assert.equal(runs.length, suiteWorkloads().length * 3);
    for (const r of runs) {
      assert.deepEqual(r.args, suiteArgv(workloadNamed(r.bench), 'tiny'));
      const why = cannotRun(r);
      if (r.spec.allocator !== 'v8') assert.equal(why, null, `${r.bench} ${r.spec.allocator}: ${why}`);
    }
    const thread = runs.find((r) => r.bench === 'glibc-thread' && r.spec.allocator === 'v8')!;
    assert.match(cannotRun(thread) ?? '', /v8 has no heap worker threads can share/);
    assert.equal(cannotRun(runs.find((r) => r.bench === 'glibc-simple' && r.spec.allocator === 'v8')!), null);
  });
});
