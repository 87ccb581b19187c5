import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseBenchArgs, UsageError } from '../lib/bench/cli-args';
import { benchArgv, planRuns, PROFILES, runSize, specLabel, traceFile } from '../lib/bench/matrix/matrix';
import { readManifest } from '../lib/trace/bundle';
import { parseAllocatorSpecs, parseMatrixArgs } from '../lib/bench/matrix/matrix-args';
import { appendRow, COLUMNS, dropPartialTail, readRows, writeRows, type CsvRow } from '../lib/bench/matrix/results-csv';

describe('matrix plan', () => {
  it('covers allocators x (fixed 128..1024, random-mixed) x reps, a whole pass per repetition', () => {
    const runs = planRuns({ reps: 2, allocators: parseAllocatorSpecs('system,v8'), threads: [1] });
    assert.equal(runs.length, 2 * 5 * 2);
    assert.deepEqual(
      runs.slice(0, 10).map((r) => `${r.bench}:${r.min}..${r.max}:${r.spec.allocator}:${r.rep}`),
      [128, 256, 512, 1024].flatMap((s) => [`fixed:${s}..${s}:system:1`, `fixed:${s}..${s}:v8:1`]).concat(
        ['random-mixed:16..1024:system:1', 'random-mixed:16..1024:v8:1'],
      ),
    );
    assert.ok(runs.slice(10).every((r) => r.rep === 2));
  });

  it("alternates a cell's allocator order by repetition, so pairs by repetition carry no position bias", () => {
    const runs = planRuns({ reps: 3, allocators: parseAllocatorSpecs('hakmem,system,v8'), threads: [1], benches: ['fixed'] });
    const orderOf = (rep: number) => runs.filter((r) => r.rep === rep && r.min === 128).map((r) => r.spec.allocator);
    assert.deepEqual(orderOf(1), ['hakmem', 'system', 'v8']);
    assert.deepEqual(orderOf(2), ['v8', 'system', 'hakmem']);
    assert.deepEqual(orderOf(3), ['hakmem', 'system', 'v8']);
    const suite = planRuns({ reps: 2, allocators: parseAllocatorSpecs('hakmem,system'), threads: [1], suite: 'tiny' });
    const first = suite[0].bench;
    assert.deepEqual(suite.filter((r) => r.bench === first).map((r) => `${r.spec.allocator}:${r.rep}`), ['hakmem:1', 'system:1', 'system:2', 'hakmem:2']);
  });

  it('runs each repetition as a bench command with the seed workload (WS 400, seed 1)', () => {
    const [run] = planRuns({ reps: 1, allocators: parseAllocatorSpecs('hakmem:phase7'), threads: [1] });
    assert.deepEqual(benchArgv(run, { cycles: 123, build: 'debug', loops: 1 }), [
      'fixed', '123', '400', '1', '--size', '128', '--allocator', 'hakmem', '--preset', 'phase7', '--build', 'debug', '--align', '1',
    ]);
  });

  it('takes a block alignment in a hakmem spec (hakmem:PRESET:alignN) and passes it to the bench', () => {
    const specs = parseAllocatorSpecs('hakmem,hakmem:current:align16,hakmem:aligned,hakmem:aligned:align8,system');
    assert.deepEqual(specs.map(specLabel), ['hakmem:current', 'hakmem:current:align16', 'hakmem:aligned', 'hakmem:aligned:align8', 'system']);
    const runs = planRuns({ reps: 1, allocators: specs, threads: [1] });
    const argvOf = (label: string) => benchArgv(runs.find((r) => specLabel(r.spec) === label)!, { cycles: 5, build: 'release', loops: 1 });
    assert.deepEqual(argvOf('hakmem:current').slice(-2), ['--align', '1']);
    assert.deepEqual(argvOf('hakmem:current:align16').slice(-4), ['--build', 'release', '--align', '16']);
    assert.deepEqual(argvOf('hakmem:aligned').slice(-2), ['--align', '16'], "the preset's own alignment");
    assert.deepEqual(argvOf('hakmem:aligned:align8').slice(-2), ['--align', '8']);
    for (const [list, message] of [
      ['hakmem:phase7:align16', /'hakmem:phase7:align16': preset phase7 keeps the 1-byte header, so only align1/],
      ['hakmem:current:align4', /'align4' is not an alignment \(expected align1, align8 or align16\)/],
      ['hakmem:current:16', /'16' is not an alignment/],
      ['hakmem:aligned:align1', /preset aligned is header-free: align8 or align16/],
      ['hakmem:aligned,hakmem:aligned:align16', /listed twice/],
      ['system:current:align16', /only hakmem takes a preset and an alignment/],
    ] as const) {
      assert.throws(() => parseAllocatorSpecs(list), (e: unknown) => e instanceof UsageError && message.test(e.message), list);
    }
  });

  it('replays each trace asked for, on one thread, with the loops in the bench command', () => {
    const runs = planRuns({ reps: 2, allocators: parseAllocatorSpecs('hakmem,system,thing'), threads: [1, 2], traces: ['git-log', 'gcc-cc1'] });
    const replays = runs.filter((r) => r.bench === 'replay');
    assert.equal(replays.length, 2 * 2 * 2, 'traces x allocators but thing x reps');
    assert.ok(replays.every((r) => r.threads === 1 && r.trace !== null));
    assert.deepEqual([...new Set(replays.map(runSize))], ['git-log', 'gcc-cc1']);
    const argv = benchArgv(replays[0], { cycles: 9, build: 'release', loops: 4 });
    assert.deepEqual(argv.slice(2), ['--loops', '4', '--allocator', 'hakmem', '--preset', 'current', '--build', 'release', '--align', '1']);
    assert.equal(argv[1], traceFile('git-log'));
    const c = parseBenchArgs(argv, {});
    assert.ok(!('help' in c) && c.bench === 'replay');
    assert.deepEqual(c.args, { file: traceFile('git-log'), loops: 4 });
    const parsed = parseMatrixArgs(['--traces', 'git-log', '--loops', '2']);
    assert.ok('traces' in parsed);
    assert.deepEqual([parsed.traces, parsed.loops], [['git-log'], 2]);
    const defaults = parseMatrixArgs([]);
    assert.ok('traces' in defaults);
    assert.equal(defaults.traces.length, readManifest().length, 'all bundled traces by default');
    assert.throws(() => parseMatrixArgs(['--traces', 'git-log,nope']), /unknown trace 'nope' in --traces \(bundled: gcc-cc1, /);
    assert.throws(() => parseMatrixArgs(['--traces', 'git-log,git-log']), /names a trace twice/);
    assert.throws(() => parseMatrixArgs(['--loops', '0']), /--loops/);
  });

  it('adds a threads dimension, leaving out allocators without a shared heap; cross-thread in its cells above 1 thread', () => {
    const runs = planRuns({ reps: 1, allocators: parseAllocatorSpecs('hakmem,v8'), threads: [1, 2] });
    assert.equal(runs.filter((r) => r.threads === 1).length, 2 * 5);
    assert.ok(runs.filter((r) => r.threads === 1).every((r) => r.bench !== 'cross-thread'));
    const two = runs.filter((r) => r.threads === 2);
    assert.equal(two.length, 6);
    assert.ok(two.every((r) => r.spec.allocator === 'hakmem'));
    assert.deepEqual(benchArgv(two[0], { cycles: 9, build: 'release', loops: 1 }).slice(-2), ['--threads', '2']);
    const ring = two.filter((r) => r.bench === 'cross-thread');
    assert.equal(ring.length, 1);
    assert.deepEqual(benchArgv(ring[0], { cycles: 9, build: 'release', loops: 1 }), [
      'cross-thread', '9', '400', '1', '2', '--min', '16', '--max', '1024', '--allocator', 'hakmem', '--preset', 'current', '--build', 'release', '--align', '1',
    ]);
    const c = parseBenchArgs(benchArgv(ring[0], { cycles: 9, build: 'release', loops: 1 }), {});
    assert.ok(!('help' in c));
    assert.equal(c.bench, 'cross-thread');
    assert.equal(c.threads, 2);
    const parsed = parseMatrixArgs(['--threads', '1,2']);
    assert.ok('threads' in parsed);
    assert.deepEqual(parsed.threads, [1, 2]);
    for (const bad of ['0', '1,x', '2,2', '65']) {
      assert.throws(() => parseMatrixArgs(['--threads', bad]), (e: unknown) => e instanceof UsageError && /--threads/.test(e.message), bad);
    }
  });

  it('measures the benches asked for, on every engine asked for', () => {
    const parsed = parseMatrixArgs(['--benches', 'random-mixed', '--engines', 'node,bun', '--allocators', 'hakmem,system', '--reps', '15']);
    assert.ok('benches' in parsed);
    const runs = planRuns(parsed);
    assert.equal(runs.length, 2 * 2 * 15);
    assert.ok(runs.every((r) => r.bench === 'random-mixed'));
    // Repetition-major: each repetition runs every engine and allocator once, in fresh processes, alternating.
    assert.deepEqual(runs.slice(0, 4).map((r) => `${r.engine}:${r.spec.allocator}:${r.rep}`), ['node:hakmem:1', 'node:system:1', 'bun:hakmem:1', 'bun:system:1']);
    assert.throws(() => parseMatrixArgs(['--benches', 'larson']), /unknown bench 'larson' in --benches \(expected fixed, random-mixed, cross-thread, replay\)/);
    assert.throws(() => parseMatrixArgs(['--engines', 'node,node']), /names an engine twice/);
  });

  it('parses its command line with profile defaults', () => {
    const quick = parseMatrixArgs([]);
    assert.ok('out' in quick);
    assert.equal(quick.out, 'results/quick/matrix');
    assert.equal(quick.cycles, PROFILES.quick.cycles);
    assert.equal(quick.reps, PROFILES.quick.reps);
    assert.equal(quick.allocators.length, 10); // hakmem, four native, v8, thing, three wasm
    const full = parseMatrixArgs(['--profile', 'full', '--out', 'data/x.csv', '--reps', '2', '--allocators', 'hakmem,hakmem:phase6-2']);
    assert.ok('out' in full);
    assert.deepEqual([full.out, full.cycles, full.reps], ['data/x', PROFILES.full.cycles, 2]);
    assert.deepEqual(full.allocators, [{ allocator: 'hakmem', preset: 'current', align: null }, { allocator: 'hakmem', preset: 'phase6-2', align: null }]);
    for (const [args, message] of [
      [['--profile', 'huge'], /unknown profile 'huge'/],
      [['--allocators', 'v8,nope'], /unknown allocator 'nope'/],
      [['--allocators', 'v8:fast'], /only hakmem takes a preset/],
      [['--allocators', 'hakmem:phase9'], /unknown preset 'phase9'/],
      [['--allocators', 'v8,v8'], /listed twice/],
      [['--reps', '0'], /--reps must be a whole number >= 1/],
      [['stray'], /Unexpected argument 'stray'/],
    ] as const) {
      assert.throws(() => parseMatrixArgs([...args]), (e: unknown) => e instanceof UsageError && message.test(e.message), args.join(' '));
    }
  });
});

describe('result set CSV', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hakmem-csv-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const row = (over: Partial<CsvRow>) => ({ ...(Object.fromEntries(COLUMNS.map((c) => [c, ''])) as CsvRow), ...over });

  it('writes the header once and round-trips commas, quotes and newlines', () => {
    const file = path.join(dir, 'a.csv');
    const tricky = row({ bench: 'fixed', skipped: 'mimalloc: "libmimalloc.so.2", not found,\nsee apt' });
    appendRow(file, row({ bench: 'fixed', opsPerSec: '1.5' }));
    appendRow(file, tricky);
    const { rows, partialTail } = readRows(file);
    assert.equal(partialTail, false);
    assert.deepEqual(rows, [row({ bench: 'fixed', opsPerSec: '1.5' }), tricky]);
  });

  it('finds and drops a torn last line', () => {
    const file = path.join(dir, 'b.csv');
    appendRow(file, row({ bench: 'fixed' }));
    writeFileSync(file, 'fixed,12', { flag: 'a' });
    assert.equal(readRows(file).partialTail, true);
    assert.equal(readRows(file).rows.length, 1);
    dropPartialTail(file);
    assert.equal(readRows(file).partialTail, false);
  });

  it('reads a set written before the engine columns as run on node, and rewrites it with them', () => {
    const file = path.join(dir, 'legacy.csv');
    const old = COLUMNS.filter((c) => c !== 'engine' && c !== 'engineVersion');
    writeFileSync(file, `${old.join(',')}\n${old.map((c) => (c === 'bench' ? 'fixed' : c === 'rep' ? '3' : '')).join(',')}\n`);
    const before = readRows(file);
    assert.equal(before.legacy, true);
    assert.deepEqual(before.rows, [row({ bench: 'fixed', rep: '3', engine: 'node' })]);
    writeRows(file, before.rows);
    const after = readRows(file);
    assert.equal(after.legacy, false);
    assert.deepEqual(after.rows, before.rows);
    assert.equal(readFileSync(file, 'utf8').split('\n')[0], COLUMNS.join(','));
  });

  it('reads a set written before the align column (hakmem rows: align 1) and before both added column groups', () => {
    const file = path.join(dir, 'd.csv');
    for (const dropped of [['align'], ['align', 'engine', 'engineVersion']]) {
      const old = COLUMNS.filter((c) => !dropped.includes(c));
      const values = (over: Partial<CsvRow>) => old.map((c) => over[c] ?? '').join(',');
      writeFileSync(file, `${old.join(',')}\n${values({ allocator: 'hakmem', preset: 'current', opsPerSec: '2', engine: 'bun' })}\n${values({ allocator: 'system', opsPerSec: '3', engine: 'bun' })}\n`);
      const { rows, legacy } = readRows(file);
      assert.equal(legacy, true, dropped.join());
      const engine = dropped.includes('engine') ? 'node' : 'bun';
      assert.deepEqual(rows.map((r) => [r.allocator, r.align, r.engine, r.opsPerSec]), [['hakmem', '1', engine, '2'], ['system', '', engine, '3']]);
    }
    assert.equal(readRows(path.join(dir, 'a.csv')).legacy, false);
  });

  it('refuses a file with other columns', () => {
    const file = path.join(dir, 'c.csv');
    writeFileSync(file, 'x,y\n1,2\n');
    assert.throws(() => readRows(file), /its columns are not those of a result set/);
  });
});
