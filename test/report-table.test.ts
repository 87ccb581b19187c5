import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as aq from 'arquero';
import { progress, table, tableHtml } from '../lib/report';
import { progressLine } from '../lib/report/progress';

describe('report tables', () => {
  const rows = [
    { allocator: 'system', size: 16, opsPerSec: 81_500_000.123456 },
    { allocator: 'hakmem <phase7>', size: 16, opsPerSec: 54_600_000 },
  ];

  it('renders every row and column as an HTML table, escaped, with a caption', () => {
    const html = tableHtml(rows, { caption: 'mixed, WS 400' });
    assert.match(html, /^<table class="hakmem-table"><caption>mixed, WS 400<\/caption>/);
    for (const cell of ['allocator', 'opsPerSec', 'system', '81500000.123', 'hakmem &lt;phase7&gt;', '54600000']) assert.ok(html.includes(cell), cell);
    assert.equal((html.match(/<tr>/g) ?? []).length, 3, 'header and two rows');
  });

  it('takes an arquero table and says when rows were left out', () => {
    const t = aq.from(Array.from({ length: 5 }, (_, i) => ({ i })));
    const html = tableHtml(t, { limit: 2 });
    assert.equal((html.match(/<tr>/g) ?? []).length, 3);
    assert.match(html, /first 2 of 5 rows/);
  });

  it('table() outside a notebook returns the HTML', () => {
    assert.equal(table(rows), tableHtml(rows));
  });
});

describe('progress', () => {
  it('formats one line with count, percentage and time left', () => {
    assert.equal(progressLine('bench', 5, 10, 2000), `bench [${'#'.repeat(15)}${'-'.repeat(15)}] 5/10 50% 2.0 s, ~2.0 s left`);
    assert.equal(progressLine('bench', 10, 10, 4000), `bench [${'#'.repeat(30)}] 10/10 100% 4.0 s`);
  });

  it('works outside a notebook (a stderr bar)', () => {
    const p = progress('work', 3);
    p.tick();
    p.tick(2);
    p.done();
  });
});
