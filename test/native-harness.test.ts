/**
 * The native C harnesses against the TypeScript side: same work, same
 * fingerprints; plus building, preloading, skipping and usage errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import type { BenchAllocator } from '../lib/bench/adapters/allocator-adapter';
import { V8Allocator } from '../lib/bench/adapters/v8';
import { larson, type LarsonParams } from '../lib/bench/workloads/larson';
import {
  buildNative,
  isSkipped,
  nativeAvailability,
  runNative,
  type NativeBench,
  type NativeResult,
} from '../lib/bench/native/run-native';
import { randomMixedLoop, type Fingerprint } from '../lib/bench/workloads/random-mixed';
import { replayRandomMixed } from '../lib/bench/workloads/random-mixed-replay';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'hakmem-native-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A real allocator, the JS engine's: every block a fresh Uint8Array, dropped for GC. */
const uint8Arrays = new V8Allocator();

/** A run with glibc malloc, which must not be skipped here. */
async function run(bench: NativeBench, args: (string | number)[]): Promise<NativeResult> {
  const r = await runNative('system', bench, args);
  if (isSkipped(r)) assert.fail(`system ${bench} skipped: ${r.skipped}`);
  return r;
}

async function binary(bench: NativeBench): Promise<string> {
  const b = await buildNative(bench);
  if (isSkipped(b)) assert.fail(`cannot build ${bench}: ${b.skipped}`);
  return b;
}

function sumFingerprints(fs: Fingerprint[]): Fingerprint {
  return fs.reduce((s, f) => ({
    mallocs: s.mallocs + f.mallocs,
    frees: s.frees + f.frees,
    bytes: s.bytes + f.bytes,
    hash: (s.hash + f.hash) >>> 0,
  }));
}

describe('random-mixed (C)', () => {
  test('prints one JSON line of the specified shape', async () => {
    const bin = await binary('random-mixed');
    const out = spawnSync(bin, ['5000', '40', '3', '16', '1024'], { encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    const lines = out.stdout.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1);
    const o = JSON.parse(lines[0]);
    assert.deepEqual(Object.keys(o), ['bench', 'ops', 'seconds', 'fingerprint', 'threads']);
    assert.deepEqual(Object.keys(o.fingerprint), ['mallocs', 'frees', 'bytes', 'hash']);
    assert.equal(o.bench, 'random-mixed');
    assert.equal(o.ops, 5000);
    assert.equal(o.threads, 1);
    assert.ok(o.seconds > 0);
  });

  for (const [cycles, ws, seed, min, max] of [
    [200_000, 400, 1, 16, 1024],
    [100_000, 7, 0, 1, 3],
    [50_000, 400, 42, 256, 256], // fixed --size 256
  ]) {
    test(`fingerprint equals the TS replay: ${cycles} ${ws} ${seed} ${min}..${max}`, async () => {
      const r = await run('random-mixed', [cycles, ws, seed, min, max]);
      assert.deepEqual(r.fingerprint, replayRandomMixed(cycles, ws, seed, min, max).fingerprint);
      assert.equal(r.ops, cycles);
      assert.equal(r.fingerprint.mallocs + r.fingerprint.frees, cycles);
    });
  }

  test('THREADS copies run seeds SEED+t; fingerprints are summed', async () => {
    const r = await run('random-mixed', [30_000, 100, 9, 16, 1024, 3]);
    const expected = sumFingerprints([9, 10, 11].map((s) => replayRandomMixed(30_000, 100, s, 16, 1024).fingerprint));
    assert.deepEqual(r.fingerprint, expected);
    assert.equal(r.ops, 90_000);
    assert.equal(r.threads, 3);
  });
});

describe('replayRandomMixed', () => {
  test('agrees with the TS loop on fingerprint and peak live bytes', () => {
    let live = 0;
    let peak = 0;
    const measuring: BenchAllocator<Uint8Array | null> = {
      name: 'measuring',
      empty: null,
      touch: uint8Arrays.touch,
      newSlots: uint8Arrays.newSlots,
      target: {
        malloc: (size) => {
          live += size;
          peak = Math.max(peak, live);
          return new Uint8Array(size);
        },
        free: (p) => {
          live -= p!.length;
        },
      },
    };
    const r = randomMixedLoop(measuring, 100_000, 50, 5, 16, 1024);
    const replay = replayRandomMixed(100_000, 50, 5, 16, 1024);
    assert.deepEqual(replay.fingerprint, r.fingerprint);
    assert.equal(replay.peakLiveBytes, peak);
  });
});

describe('larson', () => {
  const cases: Omit<LarsonParams, 'stop' | 'threads'>[] = [
    { min: 8, max: 1000, chunks: 500, rounds: 10, seed: 4141 },
    { min: 64, max: 64, chunks: 37, rounds: 3, seed: 0 }, // min = max: no size draws
    { min: 1, max: 3, chunks: 2, rounds: 5, seed: 12345 },
  ];
  for (const p of cases) {
    test(`TS and C do the same work over 4 generations: ${JSON.stringify(p)}`, async () => {
      const ts = larson(uint8Arrays, { ...p, threads: 1, stop: { generations: 4 } });
      const c = await run('larson', ['--generations', 4, p.min, p.max, p.chunks, p.rounds, p.seed, 1]);
      assert.deepEqual(ts.fingerprint, c.fingerprint);
      assert.equal(c.ops, 4 * p.rounds * p.chunks);
      assert.equal(ts.ops, c.ops);
      assert.equal(c.fingerprint.frees, c.fingerprint.mallocs);
    });
  }

  test('C with threads: every chain does its generations, deterministically', async () => {
    const args = ['--generations', 3, 8, 1000, 200, 5, 77, 3];
    const a = await run('larson', args);
    const b = await run('larson', args);
    assert.deepEqual(a.fingerprint, b.fingerprint);
    assert.equal(a.ops, 3 * 3 * 5 * 200);
    assert.equal(a.threads, 3);
  });

  test('C time-bounded run stops after SECONDS', async () => {
    const r = await run('larson', [0.2, 8, 1000, 1000, 10, 4141, 2]);
    assert.ok(r.seconds >= 0.2 && r.seconds < 5, `seconds ${r.seconds}`);
    assert.ok(r.ops > 0);
    assert.equal(r.fingerprint.mallocs, r.ops);
  });

  test('TS time-bounded run stops after seconds', () => {
    const r = larson(uint8Arrays, { min: 8, max: 100, chunks: 100, rounds: 10, seed: 1, threads: 1, stop: { seconds: 0.1 } });
    assert.ok(r.seconds >= 0.1 && r.seconds < 5, `seconds ${r.seconds}`);
    assert.ok(r.ops > 0 && r.ops % 100 === 0, `ops ${r.ops} (whole rounds)`);
  });

  test('TS refuses threads > 1 with a clear error', () => {
    assert.throws(
      () => larson(uint8Arrays, { min: 8, max: 100, chunks: 10, rounds: 1, seed: 1, threads: 2, stop: { generations: 1 } }),
      /threads = 2.*one chain on this thread/,
    );
  });
});

describe('preloaded allocators', () => {
  test('each is available with its library, or skipped with a reason', async () => {
    const rows = await nativeAvailability();
    assert.deepEqual(rows.map((r) => r.allocator), ['system', 'mimalloc', 'jemalloc', 'tcmalloc']);
    for (const r of rows) {
      if (r.available) assert.equal(r.library === null, r.allocator === 'system');
      else assert.match(r.reason ?? '', /\S/);
    }
  });

  test('an available one does the same work as system', async () => {
    const args = [100_000, 400, 1, 16, 1024];
    const system = await run('random-mixed', args);
    for (const allocator of ['mimalloc', 'jemalloc', 'tcmalloc'] as const) {
      const r = await runNative(allocator, 'random-mixed', args);
      if (isSkipped(r)) continue;
      assert.deepEqual(r.fingerprint, system.fingerprint);
      assert.match(r.library ?? '', new RegExp(allocator === 'tcmalloc' ? 'tcmalloc' : allocator));
    }
  });

  test('a missing library is skipped with a reason', async () => {
    const missing = path.join(scratch, 'libnothere.so.1');
    const r = await runNative('mimalloc', 'random-mixed', [1000, 10, 1, 16, 64], { library: missing });
    assert.ok(isSkipped(r));
    assert.match(r.skipped, /libnothere\.so\.1 does not exist/);
  });

  test('a library the loader ignores is skipped, not run as glibc', async () => {
    const notElf = path.join(scratch, 'libnotelf.so');
    writeFileSync(notElf, 'not a shared object\n');
    const r = await runNative('jemalloc', 'random-mixed', [1000, 10, 1, 16, 64], { library: notElf });
    assert.ok(isSkipped(r));
    assert.match(r.skipped, /cannot be preloaded/);
  });
});

describe('building', () => {
  test('a missing compiler is skipped with a reason', async () => {
    const r = await buildNative('larson', { cc: 'no-such-cc-for-hakmem', cacheDir: path.join(scratch, 'nocc') });
    assert.ok(isSkipped(r));
    assert.match(r.skipped, /no-such-cc-for-hakmem/);
  });

  test('rebuilds when the stored hash does not match the source', async () => {
    const cacheDir = path.join(scratch, 'rebuild');
    const first = await buildNative('random-mixed', { cacheDir });
    assert.ok(!isSkipped(first));
    const hashFile = `${first}.sha256`;
    const hash = readFileSync(hashFile, 'utf8');
    assert.match(hash, /^[0-9a-f]{64}$/);
    const again = await buildNative('random-mixed', { cacheDir });
    assert.equal(again, first);
    const builtAt = statSync(first).mtimeMs;
    writeFileSync(hashFile, 'stale');
    await new Promise((r) => setTimeout(r, 20));
    await buildNative('random-mixed', { cacheDir });
    assert.equal(readFileSync(hashFile, 'utf8'), hash);
    assert.ok(statSync(first).mtimeMs > builtAt, 'binary rebuilt');
  });
});

describe('usage errors', () => {
  const bad: [NativeBench, string[]][] = [
    ['random-mixed', []],
    ['random-mixed', ['100', '0', '1', '16', '1024']],
    ['random-mixed', ['100', '10', '1', '64', '16']],
    ['random-mixed', ['100', '10', '1', '16', '1024', '0']],
    ['random-mixed', ['1e3', '10', '1', '16', '1024']],
    ['random-mixed', ['-5', '10', '1', '16', '1024']],
    ['larson', ['5', '8', '1000', '5000', '100', '4141']],
    ['larson', ['0', '8', '1000', '5000', '100', '4141', '1']],
    ['larson', ['--generations', '0', '8', '1000', '5000', '100', '4141', '1']],
    ['larson', ['1', '0', '1000', '5000', '100', '4141', '1']],
    ['larson', ['1', '8', '1000', '5000', 'x', '4141', '1']],
  ];
  for (const [bench, args] of bad) {
    test(`${bench} ${args.join(' ')} -> usage on stderr, exit 2`, async () => {
      const out = spawnSync(await binary(bench), args, { encoding: 'utf8' });
      assert.equal(out.status, 2);
      assert.equal(out.stdout, '');
      assert.match(out.stderr, new RegExp(`^${bench}: .+\\nusage: ${bench} `));
    });
  }

  test('runNative rejects with the harness message', async () => {
    await assert.rejects(runNative('system', 'random-mixed', [100, 0, 1, 16, 1024]), /WS must be a whole number/);
  });
});
