import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cellRatios } from '../lib/bench/matrix/cell-ratios';
import { COLUMNS, type CsvRow } from '../lib/bench/matrix/results-csv';

function row(over: Partial<CsvRow>): CsvRow {
  const base = Object.fromEntries(COLUMNS.map((c) => [c, ''])) as CsvRow;
  return { ...base, bench: 'replay', size: 'git-log', allocator: 'system', threads: '1', engine: 'node', rep: '1', opsPerSec: '1', ...over };
}

/** Replay rows of one cell: per allocator, each repetition's allocator-only ns per op (best pass). */
function replayRows(figures: Record<string, Array<number | null>>, preset = 'current'): CsvRow[] {
  return Object.entries(figures).flatMap(([allocator, ns]) =>
    ns.map((x, i) =>
      row({
        allocator,
        preset: allocator === 'hakmem' ? preset : '',
        align: allocator === 'hakmem' ? '1' : '',
        rep: String(i + 1),
        opsPerSec: String(allocator === 'hakmem' ? 2e7 : 4e7),
        allocatorBestPassNsPerOp: x === null ? '' : String(x),
      }),
    ),
  );
}

describe('cell ratios to system', () => {
  it('pairs replay runs by repetition for the allocator-only time: median ratio, interval, reps below 1, best against best', () => {
    const system = [4, 5, 4.4, 4.2, 6, 4.1, 4.3];
    const hakmem = [3.6, 4.6, 4.2, 3.9, 5.2, 4.3, 3.8];
    const [r] = cellRatios(replayRows({ hakmem, system }));
    assert.equal(r.series, 'hakmem:current');
    assert.equal(r.ratio, 0.5, 'end to end: the median ops/s ratio as before');
    const own = r.allocatorOnly!;
    const paired = hakmem.map((x, i) => x / system[i]).sort((a, b) => a - b);
    assert.equal(own.pairs, 7);
    assert.equal(own.ratio, paired[3], 'the median of the per-repetition ratios');
    assert.equal(own.below, 6, 'repetition 6 is the one above 1');
    assert.equal(own.medianNs, 4.2);
    assert.equal(own.systemMedianNs, 4.3);
    assert.equal(own.bestRatio, 3.6 / 4);
    assert.ok(own.low <= own.ratio && own.ratio <= own.high);
    assert.ok(own.high < 1);
    assert.equal(own.verdict, 'less time');
  });

  it('says "more time" only when the whole interval is above 1, and "no difference" when it spans 1', () => {
    const slow = cellRatios(replayRows({ hakmem: [5, 5.2, 5.1, 5.3, 5], system: [4, 4.1, 4, 4.2, 4.1] }))[0].allocatorOnly!;
    assert.equal(slow.verdict, 'more time');
    assert.ok(slow.low > 1);
    const even = cellRatios(replayRows({ hakmem: [4, 4.4, 3.8, 4.1, 4.3], system: [4.2, 4.1, 4, 4.3, 3.9] }))[0].allocatorOnly!;
    assert.equal(even.verdict, 'no difference');
    assert.ok(even.low < 1 && even.high > 1);
  });

  it('leaves out repetitions without a figure on either side or at or below 0, and has none without a pair', () => {
    const own = cellRatios(replayRows({ hakmem: [3, null, 2, -0.5, 4], system: [4, 4, null, 4, 4] }))[0].allocatorOnly!;
    assert.equal(own.pairs, 2);
    assert.deepEqual([own.medianNs, own.systemMedianNs], [3.5, 4]);
    assert.equal(cellRatios(replayRows({ hakmem: [null, null], system: [4, 4] }))[0].allocatorOnly, null);
    const fixed = cellRatios([row({ bench: 'fixed', size: '128', allocator: 'v8' }), row({ bench: 'fixed', size: '128' })]);
    assert.equal(fixed[0].allocatorOnly, null, 'a bench without an oracle has no allocator-only figure');
  });
});
