import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { UsageError } from '../lib/bench/cli-args';
import { cellOf, planRuns, PROFILES, runKey, runSize, specLabel, type MatrixRecord, type Run, type SessionRecord } from '../lib/bench/matrix/matrix';
import { parseAllocatorSpecs, parseMatrixArgs } from '../lib/bench/matrix/matrix-args';
import { MergeError, mergeShards } from '../lib/bench/matrix/merge';
import { collectProvenance } from '../lib/bench/matrix/provenance';
import { COLUMNS, appendRow, readRows, type CsvRow } from '../lib/bench/matrix/results-csv';
import { parseShard, type Shard } from '../lib/bench/matrix/shards';
import type { HeapAlignment } from '../lib/alloc/size-classes';

const ROOT = path.resolve(__dirname, '..');
const key = (r: Run) => runKey(r, 'release');

describe('matrix shards', () => {
  const plan = { reps: 3, allocators: parseAllocatorSpecs('hakmem,system,v8'), threads: [1, 2], engines: ['node', 'bun'] };
  const all = planRuns(plan);

  it('partition the runs exactly, whole cells to a shard, every shard in repetition-major order', () => {
    // (5 benches at 1 and 2 threads, cross-thread at 2) x 2 engines
    assert.equal(new Set(all.map(cellOf)).size, (5 * 2 + 1) * 2);
    for (const count of [1, 2, 3, 4, 7, 20, 25]) {
      const shards = Array.from({ length: count }, (_, i) => planRuns({ ...plan, shard: { index: i + 1, count } }));
      const keys = shards.flat().map(key);
      assert.equal(keys.length, all.length, `N=${count}: every run once`);
      assert.deepEqual(new Set(keys), new Set(all.map(key)), `N=${count}: the same runs`);
      const owner = new Map<string, number>();
      shards.forEach((runs, i) => {
        for (const run of runs) {
          assert.equal(owner.get(cellOf(run)) ?? i, i, `N=${count}: cell ${cellOf(run)} in two shards`);
          owner.set(cellOf(run), i);
        }
        const reps = runs.map((r) => r.rep);
        assert.deepEqual(reps, [...reps].sort((a, b) => a - b), `N=${count}: shard ${i + 1} repetition-major`);
      });
      // Every allocator of a cell (the system baseline too) runs in its shard.
      for (const runs of shards) {
        for (const cell of new Set(runs.map(cellOf))) {
          const allocators = new Set(runs.filter((r) => cellOf(r) === cell).map((r) => r.spec.allocator));
          const expected = new Set(all.filter((r) => cellOf(r) === cell).map((r) => r.spec.allocator));
          assert.deepEqual(allocators, expected);
        }
      }
      const sizes = shards.map((runs) => new Set(runs.map(cellOf)).size);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `N=${count}: cells dealt evenly: ${sizes}`);
    }
  });

  it('parses K/N and auto/N from the job runner, and refuses shards that do not exist', () => {
    assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
    assert.deepEqual(parseShard('auto/4', { SLURM_ARRAY_TASK_ID: '4' }), { index: 4, count: 4 });
    assert.deepEqual(parseShard('auto/4', { JOB_COMPLETION_INDEX: '0' }), { index: 1, count: 4 });
    for (const [text, env, message] of [
      ['3/2', {}, /shard 3 of 2 does not exist \(K runs from 1 to 2\)/],
      ['0/0', {}, /N must be at least 1/],
      ['0/3', {}, /shard 0 of 3 does not exist/],
      ['2', {}, /expected K\/N/],
      ['auto/4', {}, /none of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX is set/],
      ['auto/4', { JOB_COMPLETION_INDEX: '4' }, /shard 5 of 4 does not exist/],
    ] as const) {
      assert.throws(() => parseShard(text, env), (e: unknown) => e instanceof UsageError && message.test(e.message), text);
    }
    const parsed = parseMatrixArgs(['--profile', 'tiny', '--shard', '2/3']);
    assert.ok('out' in parsed);
    assert.deepEqual(parsed.shard, { index: 2, count: 3 });
    assert.equal(parsed.out, 'results/tiny/shards/2-of-3');
    assert.deepEqual(parsed.allocators.map(specLabel), ['hakmem:current', 'system']);
    const cli = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/matrix.ts', '--shard', '3/2'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(cli.status, 2);
    assert.match(cli.stderr, /matrix: --shard '3\/2': shard 3 of 2 does not exist/);
  });
});

describe('matrix merge', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hakmem-merge-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const plan = { reps: 2, allocators: parseAllocatorSpecs('hakmem,system'), threads: [1], engines: ['node'] };
  const provenance = collectProvenance();

  /** A finished shard set as runMatrix writes it: rows of its runs and one session record. */
  function writeShard(
    set: string,
    shard: Shard,
    over: { commit?: string; profile?: 'quick' | 'tiny'; reps?: number; cpuModel?: string; rate?: (r: Run) => number } = {},
  ) {
    const p = { ...plan, reps: over.reps ?? plan.reps };
    const runs = planRuns({ ...p, shard });
    const commit = over.commit ?? 'a'.repeat(40);
    mkdirSync(path.dirname(set), { recursive: true });
    for (const run of runs) {
      const hakmem = run.spec.allocator === 'hakmem';
      const row = Object.fromEntries(COLUMNS.map((c) => [c, ''])) as CsvRow;
      Object.assign(row, {
        bench: run.bench, size: runSize(run), min: String(run.min), max: String(run.max), cycles: '20000',
        ws: '400', seed: '1', allocator: run.spec.allocator, preset: hakmem ? 'current' : '', build: hakmem ? 'release' : '', align: hakmem ? '1' : '',
        threads: String(run.threads), engine: run.engine, engineVersion: '20.0.0', rep: String(run.rep),
        opsPerSec: String(over.rate?.(run) ?? (hakmem ? 2e6 : 1e6)), commit, dirty: 'false',
      });
      appendRow(`${set}.csv`, row);
    }
    const session: SessionRecord = {
      profile: over.profile ?? 'tiny', threads: p.threads, cycles: 20000, reps: p.reps, allocators: p.allocators.map(specLabel),
      engines: p.engines, build: 'release', shard, startedAt: '', finishedAt: '', status: 'complete', rowsWritten: runs.length,
      failures: [], provenance: { ...provenance, commit, dirty: false, dirtyDigest: null, cpuModel: over.cpuModel ?? provenance.cpuModel },
    };
    const record: MatrixRecord = { csv: 'x.csv', workload: { ws: 400, seed: 1, fixedSizes: [], mixed: { min: 16, max: 1024 } }, sessions: [session] };
    writeFileSync(`${set}.json`, JSON.stringify(record));
    return runs;
  }

  const refuses = (out: string, sources: string[], message: RegExp) => {
    assert.throws(() => mergeShards(out, sources), (e: unknown) => {
      assert.ok(e instanceof MergeError, String(e));
      assert.match(e.message, message);
      return true;
    });
  };

  it('joins whole shards into one set, keeping each machine, with ratios per machine', () => {
    const shards = path.join(dir, 'ok');
    writeShard(path.join(shards, '1'), { index: 1, count: 3 }, { cpuModel: 'Machine A' });
    writeShard(path.join(shards, '2'), { index: 2, count: 3 }, { cpuModel: 'Machine B' });
    writeShard(path.join(shards, '3'), { index: 3, count: 3 }, { cpuModel: 'Machine A' });
    const out = path.join(dir, 'merged');
    const summary = mergeShards(out, [shards]);
    const merged = readRows(`${out}.csv`).rows;
    assert.deepEqual(new Set(merged.map((r) => runKey({ ...rowRun(r) }, 'release'))), new Set(planRuns(plan).map(key)));
    assert.equal(merged.length, planRuns(plan).length);
    const record = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as MatrixRecord;
    assert.deepEqual(record.merged?.map((m) => [m.shard.index, m.machine.split(' x')[0]]), [[1, 'Machine A'], [2, 'Machine B'], [3, 'Machine A']]);
    assert.equal(record.sessions.length, 3);
    assert.deepEqual(summary.machines.map((m) => [m.machine.split(' x')[0], m.shards]), [['Machine A', [1, 3]], ['Machine B', [2]]]);
    assert.equal(summary.machines.flatMap((m) => m.ratios).length, 5);
    assert.ok(summary.machines.flatMap((m) => m.ratios).every((r) => r.series === 'hakmem:current' && r.ratio === 2));
    // A merge target that already holds results is refused, and left as it was.
    const before = readFileSync(`${out}.csv`, 'utf8');
    refuses(out, [shards], /merged\.csv already exists: merge writes a new set, so choose another OUT/);
    assert.equal(readFileSync(`${out}.csv`, 'utf8'), before);
  });

  it('refuses shards of different commits, profiles or plans, missing, repeated or unfinished shards, and a cut-off CSV', () => {
    const cases: [string, (d: string) => string[], RegExp][] = [
      ['commits', (d) => {
        writeShard(path.join(d, '1'), { index: 1, count: 2 });
        writeShard(path.join(d, '2'), { index: 2, count: 2 }, { commit: 'b'.repeat(40) });
        return [d];
      }, /measured at different commits: aaaaaaaaaa in shard 1\/2 .*, bbbbbbbbbb in shard 2\/2/],
      ['profiles', (d) => {
        writeShard(path.join(d, '1'), { index: 1, count: 2 });
        writeShard(path.join(d, '2'), { index: 2, count: 2 }, { profile: 'quick' });
        return [d];
      }, /ran different profiles: tiny in .*, quick in/],
      ['plans', (d) => {
        writeShard(path.join(d, '1'), { index: 1, count: 2 });
        writeShard(path.join(d, '2'), { index: 2, count: 2 }, { reps: 3 });
        return [d];
      }, /ran different plans/],
      ['missing', (d) => {
        writeShard(path.join(d, '1'), { index: 1, count: 3 });
        writeShard(path.join(d, '3'), { index: 3, count: 3 });
        return [d];
      }, /shard 2\/3 is missing \(given: 1\/3, 3\/3\): merge needs all 3/],
      ['twice', (d) => {
        writeShard(path.join(d, 'a', '1'), { index: 1, count: 2 });
        writeShard(path.join(d, 'b', '1'), { index: 1, count: 2 });
        writeShard(path.join(d, 'b', '2'), { index: 2, count: 2 });
        return [path.join(d, 'a'), path.join(d, 'b')];
      }, /shard 1\/2 is given twice/],
      ['unfinished', (d) => {
        writeShard(path.join(d, '1'), { index: 1, count: 2 });
        writeShard(path.join(d, '2'), { index: 2, count: 2 });
        const csv = path.join(d, '2.csv');
        const lines = readFileSync(csv, 'utf8').split('\n');
        writeFileSync(csv, `${lines.slice(0, -2).join('\n')}\n`); // the last run never finished
        return [d];
      }, /2 \(shard 2\/2\) lacks 1 of its 8 runs, e\.g\. fixed 1024 B hakmem:current rep 2: rerun its command to finish it/],
      ['truncated', (d) => {
        writeShard(path.join(d, '1'), { index: 1, count: 2 });
        writeShard(path.join(d, '2'), { index: 2, count: 2 });
        const csv = path.join(d, '1.csv');
        truncateSync(csv, readFileSync(csv).length - 7);
        return [d];
      }, /1\.csv: its last line is cut off \(the shard was interrupted mid-write\)/],
      ['empty folder', (d) => {
        mkdirSync(d, { recursive: true });
        return [d];
      }, /no result sets in this folder/],
    ];
    for (const [name, make, message] of cases) {
      const d = path.join(dir, name.replace(' ', '-'));
      const out = path.join(dir, `out-${name.replace(' ', '-')}`);
      refuses(out, make(d), message);
      assert.ok(!existsSync(`${out}.csv`) && !existsSync(`${out}.json`), `${name}: nothing written`);
    }
  });
});

/** A row's run, enough for runKey. */
function rowRun(r: CsvRow): Run {
  return {
    bench: r.bench as Run['bench'], min: Number(r.min), max: Number(r.max), trace: r.bench === 'replay' ? r.size : null, threads: Number(r.threads), engine: r.engine,
    rep: Number(r.rep), spec: {
      allocator: r.allocator as Run['spec']['allocator'],
      preset: (r.preset || null) as Run['spec']['preset'],
      align: r.align ? (Number(r.align) as HeapAlignment) : null,
    },
  };
}

describe('GNU parallel recipe', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hakmem-parallel-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the tiny profile as shards under parallel -j2 and merges them into the unsharded plan', (t) => {
    if (spawnSync('parallel', ['--version'], { stdio: 'ignore' }).error) {
      if (process.env.CI) assert.fail('GNU parallel is not installed: CI installs the Debian package parallel (.ci/run)');
      t.skip('GNU parallel is not installed (apt-get install parallel); CI runs this');
      return;
    }
    const shards = path.join(dir, 'shards');
    // The README's recipe, as written there.
    const run = spawnSync(
      'parallel',
      ['-j2', '--halt', 'now,fail=1', 'npm', 'run', '-s', 'matrix', '--', '--profile', 'tiny', '--shard', '{}/3', '--out', `${shards}/{}`, ':::', '1', '2', '3'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    const out = path.join(dir, 'merged');
    const merge = spawnSync('npm', ['run', '-s', 'matrix', '--', 'merge', out, shards], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(merge.status, 0, merge.stderr);
    // (5 synthetic cells + the tiny profile's one trace) x hakmem and system
    assert.match(merge.stderr, /3 shards, 12 rows into/);
    assert.match(merge.stdout, /\(shards 1, 2, 3\): median ratio to system per cell/);
    assert.match(merge.stdout, /random-mixed 16\.\.1024, node\s+hakmem:current\s+[\d.]+[MK]? vs\s+[\d.]+[MK]? ops\/s = \d+\.\d\dx \(n=1\)/);
    const cells = (runs: { bench: string; size: string; threads: string | number; engine: string }[]) => [...new Set(runs.map(cellOf))].sort();
    const unsharded = planRuns({
      reps: PROFILES.tiny.reps, allocators: parseAllocatorSpecs(PROFILES.tiny.allocators as string), threads: [1], traces: PROFILES.tiny.traces,
    });
    const merged = readRows(`${out}.csv`).rows;
    assert.deepEqual(cells(merged), cells(unsharded.map((r) => ({ ...r, size: runSize(r) }))));
    assert.deepEqual(merged.map((r) => runKey(rowRun(r), 'release')).sort(), unsharded.map(key).sort());
    assert.ok(merged.every((r) => r.skipped === '' && Number(r.opsPerSec) > 0));
    // The CLI says why it refuses, and exits 1.
    const again = spawnSync('npm', ['run', '-s', 'matrix', '--', 'merge', out, shards], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(again.status, 1);
    assert.match(again.stderr, /matrix merge: .*merged\.csv already exists/);
  });
});
