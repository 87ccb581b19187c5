import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultOut, newestResultSet, previousOut } from '../lib/bench/matrix/locations';
import { PROFILES } from '../lib/bench/matrix/matrix';
import { summaryOf } from '../lib/notebook/batch';
import { reportIndexHtml } from '../lib/notebook/export-html';
import type { Notebook } from '../lib/notebook/nbformat';
import { REPORT_SUMMARY_MIME, describeData, type ReportSummary } from '../lib/report/report-summary';

const ROOT = path.resolve(__dirname, '..');
const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });

describe('results never dirty the checkout', () => {
  it('commands write under results/ (git-ignored) by default; data/ is the tracked reference', () => {
    const outs = Object.keys(PROFILES).flatMap((p) => [defaultOut(p), defaultOut(p, { index: 2, count: 3 }), previousOut(defaultOut(p))]);
    for (const out of outs) {
      assert.match(out, /^results\//);
      for (const ext of ['csv', 'json']) assert.equal(git('check-ignore', '-q', `${out}.${ext}`).status, 0, `${out}.${ext} is ignored`);
    }
    assert.equal(git('check-ignore', '-q', 'data/quick.csv').status, 1, 'data/ stays tracked');
    assert.deepEqual(git('ls-files', 'data').stdout.split('\n').filter((f) => f.includes('.before-')), [], 'no backups in data/');
  });

  it('a matrix run with default paths leaves git status as it was', () => {
    const before = git('status', '--porcelain', '--untracked-files=all').stdout;
    const out = defaultOut('tiny', { index: 5, count: 5 });
    rmSync(path.join(ROOT, path.dirname(out)), { recursive: true, force: true });
    try {
      const r = spawnSync('npm', ['run', '-s', 'matrix', '--', '--profile', 'tiny', '--allocators', 'system', '--shard', '5/5'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`1 rows written to ${out}\\.csv`));
      assert.equal(git('status', '--porcelain', '--untracked-files=all').stdout, before);
    } finally {
      rmSync(path.join(ROOT, path.dirname(out)), { recursive: true, force: true });
    }
  });
});

describe('which results notebooks show', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'hakmem-located-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const touch = (file: string, seconds: number) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), 'x');
    utimesSync(path.join(root, file), seconds, seconds);
  };

  it('the newest whole set under results/PROFILE, else the committed reference, saying which', () => {
    assert.throws(() => newestResultSet('quick', root), /no result set: nothing under results\/quick\//);
    touch('data/quick.csv', 1000);
    assert.deepEqual(newestResultSet('full', root), {
      path: 'data/quick',
      kind: 'reference',
      note: 'showing the committed reference set data/quick.csv: no results under results/full/ yet (npm run matrix -- --profile full measures here)',
    });
    touch('data/full.csv', 1000);
    assert.equal(newestResultSet('full', root).path, 'data/full');
    touch('results/full/matrix.csv', 2000);
    touch('results/full/engines.csv', 3000);
    touch('results/full/matrix.before-2026.csv', 4000);
    touch('results/full/shards/1-of-2.csv', 5000);
    assert.deepEqual(newestResultSet('full', root), {
      path: 'results/full/engines',
      kind: 'results',
      note: 'showing the newest results for profile full: results/full/engines.csv',
    });
  });
});

describe('report index', () => {
  it("lists each report's key figure and where its data came from", () => {
    const summary: ReportSummary = {
      keyFigure: 'hakmem-ts at 0.80x to 1.20x of glibc',
      data: { set: 'results/quick/matrix.csv', kind: 'results', commit: 'abc1234567', machine: 'CPU x2, Linux', date: '2026-01-01T00:00:00Z' },
    };
    const nb = {
      cells: [
        { cell_type: 'code', source: '', metadata: {}, execution_count: 1, outputs: [
          { output_type: 'display_data', data: { [REPORT_SUMMARY_MIME]: summary, 'text/plain': 'x' }, metadata: {} },
        ] },
      ],
    } as unknown as Notebook;
    assert.deepEqual(summaryOf(nb), summary);
    assert.equal(summaryOf({ cells: [] } as unknown as Notebook), null);
    const html = reportIndexHtml([{ title: 'Overview', file: 'o.html', keyFigure: summary.keyFigure, data: describeData(summary.data) }]);
    assert.match(html, /<div class="key-figure">hakmem-ts at 0\.80x to 1\.20x of glibc<\/div>/);
    assert.match(
      html,
      /data: results\/quick\/matrix\.csv \(newest results\), commit abc1234567, CPU x2, Linux, 2026-01-01T00:00:00Z/,
    );
  });
});
