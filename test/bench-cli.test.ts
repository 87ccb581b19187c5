import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { UsageError, parseBenchArgs, type BenchRequest } from '../lib/bench/cli-args';

const ROOT = path.resolve(__dirname, '..');

function bench(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/bench.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function request(args: string[], env: Record<string, string | undefined> = {}): BenchRequest {
  const c = parseBenchArgs(args, env);
  assert.ok(!('help' in c));
  return c;
}

describe('bench command line', () => {
  it('parses random-mixed with the default sizes, the environment, or --min/--max', () => {
    const r = request(['random-mixed', '2000000', '400', '1']);
    assert.deepEqual(r.args, { cycles: 2_000_000, ws: 400, seed: 1, min: 16, max: 1024 });
    assert.equal(r.allocator, 'hakmem');
    assert.equal(r.threads, 1);
    assert.equal(r.json, false);
    const env = { HAKMEM_BENCH_MIN_SIZE: '32', HAKMEM_BENCH_MAX_SIZE: '64' };
    assert.deepEqual(request(['random-mixed', '10', '4', '0'], env).args, { cycles: 10, ws: 4, seed: 0, min: 32, max: 64 });
    const flags = request(['random-mixed', '10', '4', '0', '--min', '8', '--max', '8'], env);
    assert.deepEqual(flags.args, { cycles: 10, ws: 4, seed: 0, min: 8, max: 8 });
  });

  it('parses fixed as random-mixed with min = max = --size', () => {
    const r = request(['fixed', '100', '40', '3', '--size', '128', '--allocator', 'v8', '--json']);
    assert.equal(r.bench, 'fixed');
    assert.deepEqual(r.args, { cycles: 100, ws: 40, seed: 3, min: 128, max: 128 });
    assert.equal(r.allocator, 'v8');
    assert.equal(r.json, true);
  });

  it('parses larson, whose THREADS is its 7th argument', () => {
    const r = request(['larson', '10', '8', '128', '1024', '1', '12345', '4', '--allocator', 'system']);
    assert.deepEqual(r.args, { seconds: 10, min: 8, max: 128, chunks: 1024, rounds: 1, seed: 12345, threads: 4 });
    assert.equal(r.threads, 4);
  });

  it('takes a hakmem preset and build', () => {
    const r = request(['random-mixed', '1', '1', '1', '--preset', 'phase7', '--build', 'debug']);
    assert.equal(r.preset, 'phase7');
    assert.equal(r.build, 'debug');
    assert.equal(r.align, undefined, "unset: the preset's alignment");
    assert.equal(request(['fixed', '1', '1', '1', '--size', '128', '--align', '16']).align, 16);
  });

  it('--align 16 runs the header-free heap: 16-aligned blocks, its own configuration hash', () => {
    const run = (extra: string[]) => {
      const r = bench(['fixed', '20000', '40', '1', '--size', '128', '--json', ...extra]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    const plain = run([]);
    const aligned = run(['--align', '16']);
    assert.deepEqual([plain.preset, plain.align, aligned.preset, aligned.align], ['current', 1, 'current', 16]);
    assert.notEqual(plain.configHash, aligned.configHash);
    // 128-byte blocks on the header-free heap, 160-byte ones (128 + header) on current: never more memory.
    assert.ok(aligned.peakHeapBytes <= plain.peakHeapBytes, `peak heap ${aligned.peakHeapBytes} vs ${plain.peakHeapBytes}`);
    assert.equal(run(['--preset', 'aligned']).align, 16);
  });

  const errors: Array<[string[], RegExp]> = [
    [[], /no bench given/],
    [['sort', '1'], /unknown bench 'sort'/],
    [['random-mixed', '1', '2', '3', '--allocator', 'tlsf'], /unknown allocator 'tlsf'/],
    [['random-mixed', '1', '2', '3', '--preset', 'phase9'], /unknown preset 'phase9'/],
    [['random-mixed', '1', '2', '3', '--build', 'fast'], /unknown build 'fast'/],
    [['random-mixed', '1', '2'], /random-mixed takes 3 arguments \(CYCLES WS SEED\), got 2/],
    [['random-mixed', '1', '2', '3', '4'], /takes 3 arguments/],
    [['random-mixed', 'lots', '2', '3'], /CYCLES must be a whole number from 1 to \d+, got 'lots'/],
    [['random-mixed', '1.5', '2', '3'], /CYCLES must be a whole number/],
    [['random-mixed', '-5', '2', '3'], /must not be negative, got '-5'/],
    [['random-mixed', '1', '0', '3'], /WS must be a whole number from 1/],
    [['random-mixed', '1', '2', '3', '--min', '64', '--max', '32'], /--max must be a whole number from 64/],
    [['random-mixed', '1', '2', '3', '--size', '64'], /--size applies to fixed only/],
    [['fixed', '1', '2', '3'], /fixed needs --size N/],
    [['fixed', '1', '2', '3', '--size', '0'], /--size must be a whole number from 1/],
    [['random-mixed', '1', '2', '3', '--allocator', 'v8', '--preset', 'current'], /--preset applies to --allocator hakmem only/],
    [['random-mixed', '1', '2', '3', '--allocator', 'system', '--align', '16'], /--align applies to --allocator hakmem only/],
    [['random-mixed', '1', '2', '3', '--align', '4'], /--align must be 1, 8 or 16, got '4'/],
    [['random-mixed', '1', '2', '3', '--align', 'x16'], /--align must be 1, 8 or 16, got 'x16'/],
    [['random-mixed', '1', '2', '3', '--frobnicate'], /Unknown option '--frobnicate'/],
    [['larson', '1', '8', '128', '1024', '1', '1'], /larson takes 7 arguments/],
    [['larson', '0', '8', '128', '1024', '1', '1', '1'], /SECONDS must be a number above 0/],
    [['larson', '1', '8', '128', '1024', '1', '1', '4', '--allocator', 'v8'], /larson with THREADS > 1 needs an allocator whose heap worker threads can share: .*v8 has no shared heap/],
    [['random-mixed', '1', '2', '3', '--threads', '2', '--allocator', 'thing'], /random-mixed with --threads > 1 needs an allocator whose heap worker threads can share: .*thing has no shared heap/],
    [['larson', '1', '8', '128', '1024', '1', '1', '1', '--threads', '2'], /THREADS, its 7th argument, not --threads/],
  ];
  for (const [args, message] of errors) {
    it(`rejects: ${args.join(' ') || '(nothing)'}`, () => {
      assert.throws(() => parseBenchArgs(args, {}), (e: unknown) => e instanceof UsageError && message.test(e.message));
    });
  }

  it('names a bad HAKMEM_BENCH_MAX_SIZE', () => {
    assert.throws(
      () => parseBenchArgs(['random-mixed', '1', '2', '3'], { HAKMEM_BENCH_MAX_SIZE: 'big' }),
      /HAKMEM_BENCH_MAX_SIZE must be a whole number/,
    );
  });
});

describe('scripts/bench.ts', () => {
  it('exits 2 with the problem and the usage on a bad command line', () => {
    for (const [args, message] of [
      [['random-mixed', '1', '2'], /bench: random-mixed takes 3 arguments/],
      [['nope'], /bench: unknown bench 'nope'/],
      [['random-mixed', '1', '2', '3', '--allocator', 'nope'], /bench: unknown allocator 'nope'/],
      [['random-mixed', '-1', '2', '3'], /must not be negative/],
    ] as const) {
      const r = bench([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage: npm run bench/);
      assert.equal(r.stdout, '');
    }
  });

  it('prints --help and exits 0', () => {
    const r = bench(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /random-mixed CYCLES WS SEED/);
  });

  it('prints one readable line', () => {
    const r = bench(['fixed', '20000', '40', '1', '--size', '64', '--allocator', 'thing']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^fixed 64 B thing: Throughput = [\d.]+[MK]? ops\/s \(20000 ops in [\d.]+ s\)\n$/);
  });

  it('--json prints one object of the documented shape', () => {
    const r = bench(['random-mixed', '20000', '40', '1', '--allocator', 'hakmem', '--preset', 'phase7', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(o), [
      'bench', 'allocator', 'preset', 'build', 'align', 'configHash', 'args', 'threads', 'engine', 'engineVersion',
      'ops', 'seconds', 'opsPerSec', 'fingerprint', 'peakLiveBytes', 'peakHeapBytes', 'skipped',
    ]);
    assert.equal(o.bench, 'random-mixed');
    assert.equal(o.allocator, 'hakmem');
    assert.equal(o.preset, 'phase7');
    assert.equal(o.build, 'release');
    assert.equal(o.align, 1);
    assert.match(o.configHash, /^[0-9a-f]{8}$/);
    assert.deepEqual(o.args, { cycles: 20000, ws: 40, seed: 1, min: 16, max: 1024 });
    assert.equal(o.ops, 20000);
    assert.ok(o.seconds > 0 && Math.abs(o.opsPerSec - o.ops / o.seconds) < 1e-6 * o.opsPerSec);
    assert.deepEqual(Object.keys(o.fingerprint), ['mallocs', 'frees', 'bytes', 'hash']);
    assert.ok(o.peakLiveBytes > 0 && o.peakHeapBytes >= o.peakLiveBytes);
    assert.equal(o.skipped, null);
    assert.deepEqual([o.engine, o.engineVersion], ['node', process.versions.node]);
  });

  it('--json reports a baseline that cannot run as skipped, with null numbers, exit 0', () => {
    // A C compiler that does not exist: the native baseline cannot be built here.
    const r = bench(['random-mixed', '1000', '40', '1', '--allocator', 'system', '--json'], { CC: 'no-such-cc-hakmem-test' });
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout);
    assert.match(o.skipped, /no C compiler/);
    for (const k of ['ops', 'seconds', 'opsPerSec', 'fingerprint', 'peakLiveBytes', 'peakHeapBytes']) assert.equal(o[k], null, k);
  });
});
