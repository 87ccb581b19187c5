import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { COLUMNS, type CsvRow } from '../lib/bench/matrix/results-csv';
import { findResultSets } from '../lib/report/history/find-result-sets';
import { buildHistory } from '../lib/report/history/history';
import { historyPageHtml, historyTrendsHtml } from '../lib/report/history/history-page';
import { keyFigureSamples } from '../lib/report/history/key-figures';
import { writeFixtureSet } from './fixtures/result-sets';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hakmem-history-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const M = 1e6;
// Written out of date order: the history orders them. System runs at 100M: hakmem's rate is its ratio.
writeFixtureSet(path.join(dir, 'results'), 'new', { commit: 'c'.repeat(40), date: '2026-03-01T00:00:00Z', hakmem: [90.2, 89.8, 90.1, 89.9, 90].map((x) => x * M), utilization: [0.5, 0.5, 0.5, 0.5, 0.5] });
writeFixtureSet(path.join(dir, 'data'), 'old', { commit: 'a'.repeat(40), date: '2026-01-01T00:00:00Z', hakmem: [80, 81, 79, 80.5, 79.5].map((x) => x * M), utilization: [0.5, 0.51, 0.49, 0.5, 0.5] });
writeFixtureSet(path.join(dir, 'data'), 'mid', { commit: 'b'.repeat(40), date: '2026-02-01T00:00:00Z', hakmem: [90, 91, 89, 90.5, 89.5].map((x) => x * M), utilization: [0.5, 0.5, 0.51, 0.49, 0.5] });
writeFixtureSet(path.join(dir, 'results'), 'regressed', { commit: 'e'.repeat(40), date: '2026-03-15T00:00:00Z', hakmem: [70, 71, 69, 70.5, 69.5].map((x) => x * M) });
writeFixtureSet(path.join(dir, 'results', 'quick', 'shards'), '1-of-2', { commit: 'd'.repeat(40), date: '2026-04-01T00:00:00Z', hakmem: [10, 10, 10].map((x) => x * M), shard: true });
mkdirSync(path.join(dir, 'empty'));
writeFileSync(path.join(dir, 'empty', 'notes.csv'), 'a,b\n1,2\n');

describe('history over commits', () => {
  const history = buildHistory(findResultSets(['results', 'data'], dir), dir);
  const throughput = history.points.filter((p) => p.figure === 'throughput-ratio');

  it('reads every set under the folders, leaves out shards, names them relative to where it looked', () => {
    assert.deepEqual([...history.sets].sort(), ['data/mid.csv', 'data/old.csv', 'results/new.csv', 'results/regressed.csv']);
  });

  it('orders the points by date and gives each the median of its paired hakmem/system runs', () => {
    assert.deepEqual(throughput.map((p) => p.commit), ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc', 'eeeeeeeeee']);
    assert.deepEqual(throughput.map((p) => p.value), [0.8, 0.9, 0.9, 0.7]);
    assert.deepEqual(throughput.map((p) => p.runs), [5, 5, 5, 5]);
    assert.equal(throughput[0].line, 'fixed 128 · quick');
    assert.equal(throughput[0].dateSource, 'measured', 'a commit this checkout does not have is placed at its measurement date');
    assert.equal(throughput[0].machine, 'Test CPU x2, Linux test x64, node v20.0.0');
  });

  it('marks a change beyond the noise, better or worse, and leaves a change within it unmarked', () => {
    assert.deepEqual(throughput.map((p) => p.verdict), ['first', 'better', 'within noise', 'worse']);
    const [, better, , worse] = throughput;
    assert.ok(Math.abs(better.change! - 0.9 / 0.8) < 1e-9, `change ${better.change}`);
    assert.ok(better.p! < 0.05);
    assert.match(better.changeInterval!, /^1\.\d\d×–1\.\d\d×$/);
    assert.ok(Math.abs(worse.change! - 0.7 / 0.9) < 1e-9);
    const utilization = history.points.filter((p) => p.figure === 'utilization');
    assert.deepEqual(utilization.map((p) => p.verdict), ['first', 'within noise', 'within noise']);
  });

  it('says which key figures no set holds', () => {
    assert.deepEqual(history.missing.map((m) => m.figure), ['allocator-ratio']);
  });

  it('takes the allocator-only ratio from allocatorNsPerOp where rows have it', () => {
    const empty = Object.fromEntries(COLUMNS.map((c) => [c, ''])) as CsvRow;
    const row = (allocator: string, rep: number, ns: number): CsvRow & { allocatorNsPerOp: string } =>
      ({ ...empty, bench: 'replay', size: 'git-log', allocator, threads: '1', engine: 'node', rep: String(rep), opsPerSec: '1', commit: 'f'.repeat(40), allocatorNsPerOp: String(ns) });
    const samples = keyFigureSamples([row('hakmem', 1, 20), row('system', 1, 30), row('hakmem', 2, 25), row('system', 2, 30)]);
    const allocator = samples.find((s) => s.figure === 'allocator-ratio');
    assert.deepEqual(allocator?.samples, [1.5, 1.2]);
    assert.equal(allocator?.workload, 'replay git-log');
  });

  it('takes the allocator-only ratio from the fastest passes where rows have them', () => {
    const empty = Object.fromEntries(COLUMNS.map((c) => [c, ''])) as CsvRow;
    const row = (allocator: string, rep: number, sums: number, best: number): CsvRow =>
      ({ ...empty, bench: 'replay', size: 'gs-pages', allocator, threads: '1', engine: 'node', rep: String(rep), opsPerSec: '1', commit: 'f'.repeat(40),
         allocatorNsPerOp: String(sums), allocatorBestPassNsPerOp: String(best) });
    const samples = keyFigureSamples([row('hakmem', 1, 4, 7), row('system', 1, 8, 7), row('hakmem', 2, 4, 7), row('system', 2, 8, 7.7)]);
    assert.deepEqual(samples.find((s) => s.figure === 'allocator-ratio')?.samples, [1, 1.1]);
  });

  it('places a commit this checkout has at its commit date', (t) => {
    let head: string;
    try {
      head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return t.skip('not in a git checkout');
    }
    const sets = path.join(dir, 'at-head');
    writeFixtureSet(sets, 'head', { commit: head, date: '2030-01-01T00:00:00Z', hakmem: [80 * M, 81 * M] });
    const [point] = buildHistory(findResultSets([sets])).points;
    assert.equal(point.dateSource, 'commit');
    assert.equal(point.date, execFileSync('git', ['show', '-s', '--format=%cI', head], { encoding: 'utf8' }).trim());
  });

  it('refuses a folder with no result sets, and a path that does not exist, saying so', () => {
    assert.throws(() => findResultSets(['empty'], dir), /no result sets in empty: a result set is NAME.csv/);
    assert.throws(() => findResultSets(['nowhere'], dir), /nowhere does not exist/);
    assert.throws(() => findResultSets([], dir), /no paths given/);
    assert.equal(findResultSets(['empty', 'data'], dir, { searching: true }).length, 2, 'searching the default folders, one without sets is passed over');
    assert.throws(() => findResultSets(['empty'], dir, { searching: true }), /no result sets in empty/);
  });

  it('writes a page with one chart per figure held, the sets read and what is not shown; trends for the index', async () => {
    const html = await historyPageHtml(history);
    assert.equal((html.match(/<figure class="output chart">/g) ?? []).length, 2, 'throughput ratio and utilization');
    assert.match(html, /<script defer src="assets\/report-charts.js"><\/script>/);
    assert.match(html, /<li>results\/regressed.csv<\/li>/);
    assert.match(html, /Latency p99.9 per op: result sets do not record latency/);
    assert.ok(!html.includes(dir), 'no machine paths in the page');
    const trends = await historyTrendsHtml(history);
    assert.equal((trends.match(/<figure class="trend chart">/g) ?? []).length, 2);
    assert.match(trends, /<a href="history.html">Throughput: hakmem \/ glibc<\/a>/);
  });
});
