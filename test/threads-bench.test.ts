/**
 * The threaded benchmarks on one shared hakmem heap (lib/bench/threads/run-threads.ts) against the
 * native C harness (lib/bench/native/run-native.ts, glibc): the same work proven by equal fingerprints
 * (lib/bench/workloads/WORKLOADS.md), larson budgeted by generations with THREADS 1, 2 and 8, random-mixed with
 * THREADS 2 and 8; larson's heap stats show its remote frees and thread hand-offs; and the bench CLI runs
 * hakmem larson on 2 threads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { isSkipped, runNative, type NativeBench, type NativeResult } from '../lib/bench/native/run-native';
import { larsonThreads, randomMixedThreads } from '../lib/bench/threads/run-threads';

const ROOT = path.resolve(__dirname, '..');
const T = { timeout: 120_000 };

async function native(bench: NativeBench, args: (string | number)[]): Promise<NativeResult> {
  const r = await runNative('system', bench, args);
  if (isSkipped(r)) assert.fail(`native ${bench} (system) was skipped on this machine: ${r.skipped}`);
  return r;
}

describe('threaded benchmarks on a shared heap: same work as the native harness', () => {
  const L = { min: 8, max: 128, chunks: 256, rounds: 2, seed: 4141 };
  const G = 3;

  for (const threads of [1, 2]) {
    it(`larson --generations ${G} ${L.min} ${L.max} ${L.chunks} ${L.rounds} ${L.seed} ${threads}: same fingerprint; remote frees and adopted slabs`, T, async () => {
      const ts = await larsonThreads({}, { seconds: 1e6, generations: G, ...L, threads });
      const c = await native('larson', ['--generations', G, L.min, L.max, L.chunks, L.rounds, L.seed, threads]);
      assert.deepEqual(ts.fingerprint, c.fingerprint);
      assert.equal(ts.ops, threads * G * L.rounds * L.chunks);
      assert.equal(c.ops, ts.ops);
      assert.equal(ts.threads, threads);
      assert.equal(c.threads, threads);
      // Every block was allocated by the main thread or an earlier generation: frees are remote, and a
      // new generation adopts the slabs its predecessor left behind.
      const st = ts.stats;
      assert.ok(st.routes.remote > 0, `remote frees: ${JSON.stringify(st.routes)}`);
      assert.ok(st.counters.adopted_slabs > 0, `adopted slabs: ${st.counters.adopted_slabs}`);
      assert.equal(st.liveThreads, 1, 'every generation detached');
    });
  }

  it(`larson --generations 2 ${L.min} ${L.max} 64 1 ${L.seed} 8 and random-mixed 5000 100 1 16 1024 with THREADS 8: same fingerprints as the native harness`, T, async () => {
    const l = { ...L, chunks: 64, rounds: 1, threads: 8 };
    const ts = await larsonThreads({}, { seconds: 1e6, generations: 2, ...l });
    const c = await native('larson', ['--generations', 2, l.min, l.max, l.chunks, l.rounds, l.seed, l.threads]);
    assert.deepEqual(ts.fingerprint, c.fingerprint);
    assert.equal(ts.ops, 8 * 2 * l.chunks);
    assert.equal(ts.stats.liveThreads, 1);
    const p = { cycles: 5_000, ws: 100, seed: 1, min: 16, max: 1024 };
    const rm = await randomMixedThreads({}, { ...p, threads: 8 });
    const rc = await native('random-mixed', [p.cycles, p.ws, p.seed, p.min, p.max, 8]);
    assert.deepEqual(rm.fingerprint, rc.fingerprint);
    assert.equal(rm.ops, 8 * p.cycles);
    assert.equal(rm.stats.liveThreads, 1);
  });

  it('random-mixed 60000 400 1 16 1024 with THREADS 2: same fingerprint as the native harness', T, async () => {
    const p = { cycles: 60_000, ws: 400, seed: 1, min: 16, max: 1024 };
    const ts = await randomMixedThreads({}, { ...p, threads: 2 });
    const c = await native('random-mixed', [p.cycles, p.ws, p.seed, p.min, p.max, 2]);
    assert.deepEqual(ts.fingerprint, c.fingerprint);
    assert.equal(ts.ops, 2 * p.cycles);
    assert.equal(c.ops, ts.ops);
    assert.equal(ts.threads, 2);
    assert.equal(c.threads, 2);
    assert.equal(ts.stats.liveThreads, 1);
  });

  it('npm run -s bench -- larson 0.3 8 128 256 1 1 2 --json: hakmem on 2 threads, positive throughput', T, () => {
    const r = spawnSync('npm', ['run', '-s', 'bench', '--', 'larson', '0.3', '8', '128', '256', '1', '1', '2', '--json'], {
      cwd: ROOT, encoding: 'utf8', timeout: 110_000,
    });
    assert.equal(r.status, 0, `exit status ${r.status}, stderr: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, `one JSON line expected, got: ${r.stdout}`);
    const out = JSON.parse(lines[0]);
    assert.equal(out.bench, 'larson');
    assert.equal(out.allocator, 'hakmem');
    assert.equal(out.threads, 2);
    assert.equal(out.skipped, null);
    assert.ok(typeof out.opsPerSec === 'number' && out.opsPerSec > 0, `opsPerSec ${out.opsPerSec}`);
    assert.ok(out.ops > 0 && out.seconds > 0);
    assert.deepEqual(out.args, { seconds: 0.3, min: 8, max: 128, chunks: 256, rounds: 1, seed: 1, threads: 2 });
  });
});
