/**
 * The contention model's arithmetic (lib/bench/threads/contention-model.ts): from two synthetic runs
 * made with known lambda, sigma and kappa it recovers them, and its predictions are the Universal
 * Scalability Law's, with the lock's utilisation and M/M/1 wait; bad input is refused. And its
 * command (`npm run contention`) on a small measured run: 1 and 2 workers, predictions for 4, 8, 16.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { STAT_NAMES, type StatName } from '../lib/alloc/layout';
import { fitContention, predict, sharedWork, type MeasuredRun } from '../lib/bench/threads/contention-model';

const counters = (over: Partial<Record<StatName, number>>) =>
  ({ ...Object.fromEntries(STAT_NAMES.map((n) => [n, 0])), ...over }) as Record<StatName, number>;

const close = (got: number, want: number, what: string) =>
  assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `${what}: ${got}, expected ${want}`);

describe('contention model', () => {
  // lambda 1M ops/s, 0.01 lock acquisitions per op of 200 ns: sigma = 0.01 * 200e-9 * 1e6 = 0.002; kappa 0.05.
  const lambda = 1e6;
  const cs = 200;
  const sigma = 0.002;
  const kappa = 0.05;
  const usl = (n: number) => (lambda * n) / (1 + sigma * (n - 1) + kappa * n * (n - 1));
  const one: MeasuredRun = { threads: 1, opsPerSec: lambda, ops: 1e6, counters: counters({ stage1_lockfree: 4000, slot_release: 6000 }) };
  const two: MeasuredRun = {
    threads: 2, opsPerSec: usl(2), ops: 2e6,
    counters: counters({ stage2_lockfree: 10_000, stage3_new_superslab: 5000, superslab_completely_empty: 5000, remote_free: 2e6 }),
  };

  it('reads lock acquisitions and shared RMWs per op from the counters', () => {
    assert.deepEqual(sharedWork(one), { lockPerOp: 0.01, sharedRmwPerOp: 0 });
    // An adoption from an abandoned list holds the pool lock too.
    assert.deepEqual(sharedWork({ ...one, counters: { ...one.counters, adopted_abandoned: 2000 } }), { lockPerOp: 0.012, sharedRmwPerOp: 0 });
    // pool: stage2 + stage3 = 15000; arena: stage3 + completely empty = 10000; one RMW per remote free.
    assert.deepEqual(sharedWork(two), { lockPerOp: 25_000 / 2e6, sharedRmwPerOp: 1 });
  });

  it('recovers lambda, sigma and kappa and predicts X(N) by the Universal Scalability Law', () => {
    const m = fitContention(one, two, cs);
    close(m.lambda, lambda, 'lambda');
    close(m.sigma, sigma, 'sigma');
    close(m.kappa, kappa, 'kappa');
    assert.equal(m.superlinear, false);
    for (const n of [1, 2, 4, 8, 16]) {
      const p = predict(m, n);
      close(p.opsPerSec, usl(n), `X(${n})`);
      close(p.efficiency, usl(n) / (n * lambda), `efficiency at ${n}`);
      const u = usl(n) * (25_000 / 2e6) * cs * 1e-9;
      close(p.lockUtilisation, u, `lock utilisation at ${n}`);
      close(p.lockWaitNs, (cs * u) / (1 - u), `lock wait at ${n}`);
      close(p.sharedRmwPerSec, usl(n), `shared RMWs at ${n}`);
    }
    // Worked example: X(4) = 4e6 / (1 + 0.002 * 3 + 0.05 * 12) = 4e6 / 1.606.
    close(predict(m, 4).opsPerSec, 4e6 / 1.606, 'X(4) by hand');
  });

  it('a base run with 2 workers is extrapolated to one worker through sigma', () => {
    const base: MeasuredRun = { ...one, threads: 2, opsPerSec: 2 * lambda / (1 + sigma) };
    const more: MeasuredRun = { ...two, threads: 4, opsPerSec: usl(4) };
    // sigma from the base run: lockPerOp 0.01 at its per-worker rate lambda / (1 + sigma).
    const m = fitContention(base, more, cs);
    const s = (0.01 * cs * lambda) / (1 + sigma) / 1e9;
    close(m.sigma, s, 'sigma');
    close(m.lambda, (lambda / (1 + sigma)) * (1 + s), 'lambda');
    close(predict(m, 4).opsPerSec, usl(4), 'X(4) reproduces the fitted run');
  });

  it('saturates: a lock held all the time waits forever; better than linear is flagged, kappa 0', () => {
    const busy = fitContention(one, { ...two, opsPerSec: usl(2), counters: counters({ slot_release: 2e6 * 10 }) }, 1000);
    assert.equal(predict(busy, 16).lockWaitNs, Infinity);
    const fast = fitContention(one, { ...two, opsPerSec: 2.5 * lambda }, cs);
    assert.equal(fast.superlinear, true);
    assert.equal(fast.kappa, 0);
  });

  it('refuses runs that cannot be fitted', () => {
    assert.throws(() => fitContention(two, one, cs), /needs a run with more workers than the base run \(got 2 and 1\)/);
    assert.throws(() => fitContention(one, { ...two, opsPerSec: 0 }, cs), /throughputs must be positive/);
  });

  it('npm run contention: measures 1 and 2 workers and prints predictions; a bad workload is a usage error', { timeout: 60_000 }, () => {
    const run = (args: string[]) =>
      spawnSync('npm', ['run', '-s', 'contention', '--', ...args], { cwd: path.resolve(__dirname, '..'), encoding: 'utf8', timeout: 55_000 });
    const r = run(['cross-thread', '3000', '16', '1', '--reps', '1', '--cs', '150', '--predict', '4,16', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.runs.map((x: MeasuredRun) => x.threads), [1, 2]);
    assert.deepEqual(out.runs.map((x: MeasuredRun) => x.ops), [3000, 6000]);
    assert.equal(out.runs[0].counters.remote_free, 0, 'one worker: its ring leads to itself, no remote frees');
    assert.ok(out.runs[1].shared.sharedRmwPerOp > 0.9, `two workers: one RMW per remote free, nearly every free remote (${out.runs[1].shared.sharedRmwPerOp})`);
    assert.equal(out.model.criticalSectionNs, 150);
    assert.deepEqual(out.predictions.map((p: { threads: number }) => p.threads), [4, 16]);
    assert.ok(out.predictions.every((p: { opsPerSec: number }) => p.opsPerSec > 0));
    const bad = run(['random-mixed', '1', '2', '3']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /contention: expected larson or cross-thread, got 'random-mixed'/);
  });
});
