/**
 * The coalescing mid tier on a shared heap, under threads: rptest on two workers, whose callocs and
 * aligned blocks (carried by coalescing blocks) send every free of an aligned block through the
 * validating route, which walks a region while the other thread splits and merges its blocks. Before
 * that walk took the mid lock, seed 3 refused a live block ("its region is corrupt").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBenchArgs, type BenchRequest } from '../lib/bench/cli-args';
import { runBench } from '../lib/bench/runner';
import { workloadNamed } from '../lib/bench/workloads/registry';

describe('coalescing mid tier on threads', () => {
  it('rptest on 2 workers of one shared heap: every seed completes with its fingerprint', async () => {
    for (const seed of [1, 2, 3, 4]) {
      const request = parseBenchArgs(['rptest', '2', '0', '100', '1000', '100', '8', '4000', '1', String(seed), '--allocator', 'hakmem', '--json']) as BenchRequest;
      const r = await runBench(request);
      assert.equal(r.skipped, null, `seed ${seed}: ${JSON.stringify(r.skipped)}`);
      assert.deepEqual(r.fingerprint, workloadNamed('rptest').fingerprint!(request.args as never), `seed ${seed}`);
    }
  });
});
