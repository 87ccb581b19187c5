/**
 * The standard suite's figures (lib/report/suite-figures.ts) and chart (lib/report/specs/suite-bars.ts)
 * from hand-made result rows: medians and ratios to glibc per test, geometric means, why a cell or a
 * memory figure is missing, and bars capped with their own value labelled in the rendered figure.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COLUMNS, type CsvRow } from '../lib/bench/matrix/results-csv';
import { renderSvg } from '../lib/report/plot';
import { GEOMEAN, suiteBarPoints, suiteBars, suiteRatioLabel } from '../lib/report/specs/suite-bars';
import { geometricMean, suiteFigures } from '../lib/report/suite-figures';

const row = (bench: string, allocator: string, seconds: number | null, peak: number | null, extra: Partial<CsvRow> = {}): CsvRow => ({
  ...(Object.fromEntries(COLUMNS.map((c) => [c, ''])) as CsvRow),
  bench, size: '2 100', allocator, threads: '2', engine: 'node', rep: '1',
  preset: allocator === 'hakmem' ? 'current' : '', build: allocator === 'hakmem' ? 'release' : '', align: allocator === 'hakmem' ? '1' : '',
  seconds: seconds === null ? '' : String(seconds), opsPerSec: seconds === null ? '' : String(1000 / seconds),
  peakHeapBytes: peak === null ? '' : String(peak), skipped: seconds === null ? 'no heap threads can share' : '',
  ...extra,
});

// Two tests: sh6bench (three runs each) and glibc-simple; hakmem 10x glibc's time on sh6bench (above the cap),
// half its memory; mimalloc without a memory figure; v8 skipped; a fixed-size row the suite leaves out.
const ROWS: CsvRow[] = [
  ...[1, 2, 3].flatMap((rep) => [
    row('sh6bench', 'system', [0.1, 0.3, 0.2][rep - 1], 4096 * [100, 300, 200][rep - 1], { rep: String(rep) }),
    row('sh6bench', 'hakmem', [2, 1, 3][rep - 1], 4096 * 100, { rep: String(rep) }),
    row('sh6bench', 'mimalloc', 0.1, null, { rep: String(rep) }),
    row('sh6bench', 'v8', null, null, { rep: String(rep) }),
  ]),
  row('glibc-simple', 'system', 1, 8 * 2 ** 20, { size: '16000 16', threads: '1' }),
  row('glibc-simple', 'hakmem', 0.5, 2 * 2 ** 20, { size: '16000 16', threads: '1' }),
  row('fixed', 'system', 1, 4096, { size: '128', cycles: '1000', ws: '400', seed: '1' }),
];

describe('the standard suite from a result set', () => {
  const f = suiteFigures(ROWS);
  const cell = (test: string, allocator: string) => f.cells.find((c) => c.test === test && c.allocator === allocator)!;

  it('has the suite tests in the set order and glibc first among the allocators', () => {
    assert.deepEqual(f.tests, ['sh6bench', 'glibc-simple']);
    assert.deepEqual(f.allocators, ['system', 'hakmem:current', 'mimalloc', 'v8']);
  });

  it('takes medians over runs and divides by glibc medians on the same test', () => {
    const h = cell('sh6bench', 'hakmem:current');
    assert.equal(h.runs, 3);
    assert.equal(h.seconds, 2);
    assert.ok(Math.abs(h.time! - 10) < 1e-12, `time ${h.time}`);
    assert.equal(h.memory, 0.5);
    assert.equal(cell('glibc-simple', 'hakmem:current').time, 0.5);
    assert.equal(cell('glibc-simple', 'hakmem:current').memory, 0.25);
  });

  it('says why a cell did not run and why a measured cell has no memory ratio', () => {
    assert.equal(cell('sh6bench', 'v8').skipped, 'no heap threads can share');
    assert.equal(cell('sh6bench', 'v8').memoryMissing, null);
    assert.match(cell('sh6bench', 'mimalloc').memoryMissing!, /mimalloc reported no peak memory: its C harness printed no peakResidentBytes/);
    assert.equal(cell('sh6bench', 'mimalloc').time, 0.5);
    assert.equal(cell('sh6bench', 'hakmem:current').memoryMissing, null);
  });

  it('gives each allocator the geometric mean of its ratios over the tests both sides measured', () => {
    const h = f.geomeans.find((g) => g.allocator === 'hakmem:current')!;
    assert.ok(Math.abs(h.time! - Math.sqrt(10 * 0.5)) < 1e-12);
    assert.ok(Math.abs(h.memory! - Math.sqrt(0.5 * 0.25)) < 1e-12);
    assert.deepEqual([h.timeTests, h.memoryTests], [2, 2]);
    const m = f.geomeans.find((g) => g.allocator === 'mimalloc')!;
    assert.deepEqual([m.time, m.timeTests, m.memory, m.memoryTests], [0.5, 1, null, 0]);
    assert.equal(geometricMean([]), null);
  });

  it('charts a bar per allocator and test with the figure, then the geometric means, capped with the true value as label', async () => {
    const bars = suiteBarPoints(f, 'time', 3);
    assert.deepEqual(bars.map((b) => `${b.test} ${b.series}`), [
      'sh6bench hakmem:current', 'sh6bench mimalloc', 'glibc-simple hakmem:current', `${GEOMEAN} hakmem:current`, `${GEOMEAN} mimalloc`,
    ]);
    const capped = bars[0];
    assert.deepEqual([capped.shown, capped.capped, capped.label], [3, true, '10.0×']);
    assert.deepEqual([bars[2].shown, bars[2].capped, bars[2].label], [0.5, false, '0.500×']);
    assert.deepEqual(suiteBarPoints(f, 'memory', 3).map((b) => `${b.test} ${b.series}`), ['sh6bench hakmem:current', 'glibc-simple hakmem:current', `${GEOMEAN} hakmem:current`]);
    const spec = suiteBars(f, 'time', 'time', 3) as unknown as { layer: { encoding: { y: { scale?: { domain: number[] } } } }[] };
    assert.deepEqual(spec.layer[0].encoding.y.scale?.domain, [0, 3]);
    const svg = await renderSvg(suiteBars(f, 'time', 'time', 3));
    assert.match(svg, />10\.0×</, 'the capped bar carries its own value');
    assert.match(svg, /glibc = 1\.00×/);
    const uncapped = suiteBarPoints(f, 'time', 20)[0];
    assert.deepEqual([uncapped.shown, uncapped.capped], [10, false], 'below a higher cap the bar is its value');
  });

  it('labels ratios with three significant digits', () => {
    assert.deepEqual([0.8734, 3.421, 41.83, 127.4].map(suiteRatioLabel), ['0.873×', '3.42×', '41.8×', '127×']);
  });
});
