/**
 * cross-thread (lib/bench/workloads/WORKLOADS.md): workers in a ring on one shared hakmem heap
 * (lib/bench/threads/run-threads.ts) do the same work as the native harness (glibc), proven by equal
 * fingerprints, at 2 and 8 workers; every free of the hakmem run is counted once, and nearly all of
 * them are remote; the CLI refuses allocators without a shared heap and a ring of one worker.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBenchArgs, UsageError } from '../lib/bench/cli-args';
import { isSkipped, runNative, type NativeResult } from '../lib/bench/native/run-native';
import { crossThreadThreads } from '../lib/bench/threads/run-threads';
import { crossThreadWarmupCycles } from '../lib/bench/workloads/cross-thread';

const T = { timeout: 120_000 };

async function native(args: number[]): Promise<NativeResult> {
  const r = await runNative('system', 'cross-thread', args);
  if (isSkipped(r)) assert.fail(`native cross-thread (system) was skipped on this machine: ${r.skipped}`);
  return r;
}

describe('cross-thread: every free is remote', () => {
  for (const [threads, cycles, ws] of [[2, 30_000, 64], [8, 5_000, 16]] as const) {
    const p = { cycles, ws, seed: 7, min: 16, max: 1024, threads };
    it(`cross-thread ${cycles} ${ws} 7 ${threads}: same fingerprint as the native harness; frees counted once, remote`, T, async () => {
      const ts = await crossThreadThreads({ fastStats: true }, p);
      const c = await native([p.cycles, p.ws, p.seed, p.min, p.max, threads]);
      assert.deepEqual(ts.fingerprint, c.fingerprint);
      assert.equal(ts.fingerprint.mallocs, threads * cycles);
      assert.equal(ts.fingerprint.frees, threads * cycles);
      assert.equal(ts.ops, threads * cycles);
      assert.equal(c.ops, ts.ops);
      assert.equal(c.threads, threads);
      const r = ts.stats.routes;
      // Each worker's untimed warm-up frees its own blocks too (on a ring of its own: local frees).
      const warmUpFrees = threads * crossThreadWarmupCycles(cycles);
      assert.equal(r.header_fast! + r.ss_hit + r.mid! + r.large + r.remote, ts.ops + warmUpFrees, `one route per free: ${JSON.stringify(r)}`);
      // A block is freed by the next worker; only after its maker left may the freer own (adopt) its slab.
      assert.ok(r.remote > 0.9 * ts.ops, `remote frees ${r.remote} of ${ts.ops}`);
      assert.equal(ts.stats.counters.remote_drained, ts.stats.counters.remote_free, 'every remote free drained');
      assert.equal(ts.stats.liveThreads, 1, 'every worker detached');
    });
  }

  it('the CLI: a ring needs 2 workers and a shared heap', () => {
    const req = parseBenchArgs(['cross-thread', '100', '8', '1', '4', '--min', '8', '--max', '64']);
    assert.ok(!('help' in req));
    assert.equal(req.bench, 'cross-thread');
    assert.deepEqual(req.args, { cycles: 100, ws: 8, seed: 1, min: 8, max: 64, threads: 4 });
    assert.equal(req.threads, 4);
    for (const [argv, message] of [
      [['cross-thread', '100', '8', '1', '1'], /THREADS must be a whole number from 2 to 1024, got '1'/],
      [['cross-thread', '100', '8', '1', '2', '--allocator', 'v8'], /cross-thread needs an allocator whose heap worker threads can share: hakmem or a native one \(v8 has no shared heap\)/],
      [['cross-thread', '100', '8', '1', '2', '--allocator', 'thing'], /thing has no shared heap/],
      [['cross-thread', '100', '8', '1', '2', '--threads', '2'], /THREADS, its 4th argument/],
      [['cross-thread', '100', '8', '1'], /cross-thread takes 4 arguments/],
    ] as const) {
      assert.throws(() => parseBenchArgs([...argv], {}), (e: unknown) => e instanceof UsageError && message.test(e.message), argv.join(' '));
    }
  });
});
