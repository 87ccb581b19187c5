import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { compareSets, formatComparison, type ResultSet } from '../lib/bench/matrix/compare';
import type { Checkout } from '../lib/bench/matrix/provenance';
import { appendRow, COLUMNS, type CsvRow } from '../lib/bench/matrix/results-csv';

const CHECKOUT: Checkout = { commit: 'c0ffee'.padEnd(40, '0'), dirty: false, dirtyDigest: null };

function row(over: Partial<CsvRow>): CsvRow {
  const base = Object.fromEntries(COLUMNS.map((c) => [c, ''])) as CsvRow;
  return {
    ...base,
    bench: 'fixed', size: '128', min: '128', max: '128', cycles: '2000000', ws: '400', seed: '1',
    allocator: 'system', threads: '1', rep: '1', ops: '2000000', seconds: '1', opsPerSec: '1',
    fingerprint: '1000099/999901/128012672/388821120', commit: CHECKOUT.commit as string, dirty: 'false',
    ...over,
  };
}

/** A set with one cell per (allocator, rates). */
function set(name: string, cells: Record<string, number[]>, over: Partial<CsvRow> = {}): ResultSet {
  const rows = Object.entries(cells).flatMap(([allocator, rates]) =>
    rates.map((r, i) => row({ allocator, rep: String(i + 1), opsPerSec: String(r), ...over })),
  );
  return { name, rows, record: null };
}

const verdictOf = (a: ResultSet, b: ResultSet, allocator: string) =>
  compareSets(a, b, CHECKOUT).cells.find((c) => c.label.allocator === allocator)!;

describe('compare verdicts', () => {
  const base = [100e6, 101e6, 99e6, 100.5e6, 99.5e6, 100.2e6, 99.8e6];
  it('B clearly faster: ratio ~1.2, interval above 1, "faster"', () => {
    const c = verdictOf(set('A', { system: base }), set('B', { system: base.map((x) => x * 1.2) }), 'system');
    assert.equal(c.verdict, 'faster');
    assert.ok(Math.abs((c.ratio as number) - 1.2) < 1e-9);
    assert.ok((c.low as number) > 1.1 && (c.high as number) < 1.3);
    assert.ok((c.p as number) < 0.01);
  });

  it('B clearly slower: "slower"', () => {
    const c = verdictOf(set('A', { system: base }), set('B', { system: base.map((x) => x * 0.7) }), 'system');
    assert.equal(c.verdict, 'slower');
    assert.ok((c.high as number) < 1);
  });

  it('same distribution: "no difference", interval around 1', () => {
    const shuffled = [99.9e6, 100.4e6, 99.6e6, 100.1e6, 100.6e6, 99.2e6, 100.8e6];
    const c = verdictOf(set('A', { system: base }), set('B', { system: shuffled }), 'system');
    assert.equal(c.verdict, 'no difference');
    assert.ok((c.low as number) < 1 && (c.high as number) > 1);
    assert.ok((c.p as number) > 0.05);
  });

  it('replay rows: the allocator alone compared beside end to end, from its ns per op less the oracle', () => {
    const ns = [10, 10.2, 9.8, 10.1, 9.9, 10.05, 9.95];
    const replaySet = (name: string, endToEnd: number[], own: number[]): ResultSet => ({
      name,
      record: null,
      rows: own.map((x, i) =>
        row({ bench: 'replay', size: 'gcc-cc1', allocator: 'system', rep: String(i + 1), opsPerSec: String(endToEnd[i]), allocatorNsPerOp: String(x) }),
      ),
    });
    // B's loop is the same, its allocator twice as fast: end to end a little faster, allocator only 2x.
    const cells = compareSets(replaySet('A', base, ns), replaySet('B', base.map((x) => x * 1.1), ns.map((x) => x / 2)), CHECKOUT).cells;
    assert.deepEqual(cells.map((c) => c.label.measure), ['end to end', 'allocator only']);
    assert.ok(Math.abs((cells[0].ratio as number) - 1.1) < 1e-9);
    assert.ok(Math.abs((cells[1].ratio as number) - 2) < 1e-9);
    assert.equal(cells[1].verdict, 'faster');
    assert.match(formatComparison({ a: 'A', b: 'B', cells, warnings: [] }), /replay\s+gcc-cc1\s+system\s+allocator only\s+7\/7\s+100\.0M\s+200\.0M\s+2\.000/);
  });

  it('replay rows: the allocator alone read from the fastest passes where the set has them, not the sums', () => {
    // The sums say B's allocator is twice as fast; the fastest passes say the same speed.
    const replaySet = (name: string, sums: string, best: string): ResultSet => ({
      name,
      record: null,
      rows: base.map((r, i) => row({ bench: 'replay', size: 'gs-pages', rep: String(i + 1), opsPerSec: String(r), allocatorNsPerOp: sums, allocatorBestPassNsPerOp: best })),
    });
    const [, own] = compareSets(replaySet('A', '8', '7'), replaySet('B', '4', '7'), CHECKOUT).cells;
    assert.equal(own.label.measure, 'allocator only');
    assert.equal(own.ratio, 1);
    assert.equal(own.medianA, 1e9 / 7);
    // A set written before the fastest-pass column: its sums.
    const [, old] = compareSets(replaySet('A', '8', ''), replaySet('B', '4', ''), CHECKOUT).cells;
    assert.equal(old.ratio, 2);
  });

  it('no allocator-only comparison where a row has no oracle figure or one within its noise (<= 0)', () => {
    const replay = (name: string, own: string) => ({
      name,
      record: null,
      rows: base.map((r, i) => row({ bench: 'replay', size: 't', rep: String(i + 1), opsPerSec: String(r), allocatorNsPerOp: i === 0 ? own : '5' })),
    });
    for (const own of ['', '-0.3']) {
      const cells = compareSets(replay('A', own), replay('B', '5'), CHECKOUT).cells;
      assert.deepEqual(cells.map((c) => c.label.measure), ['end to end'], `allocatorNsPerOp '${own}'`);
    }
  });

  it('3 against 3 can never reach p < 0.05: "too few reps", not a false verdict', () => {
    const c = verdictOf(set('A', { system: [1, 2, 3] }), set('B', { system: [10, 20, 30] }), 'system');
    assert.equal(c.verdict, 'too few reps');
    assert.match(c.note, /cannot reach p < 0.05/);
  });

  it('a skipped or missing cell is not comparable, with the reason', () => {
    const a = set('A', { system: base, v8: base });
    const b: ResultSet = {
      name: 'B',
      rows: base.map((_, i) => row({ allocator: 'system', rep: String(i + 1), ops: '', opsPerSec: '', skipped: 'no C compiler' })),
      record: null,
    };
    assert.equal(verdictOf(a, b, 'system').verdict, 'not comparable');
    assert.match(verdictOf(a, b, 'system').note, /skipped in B: no C compiler/);
    assert.match(verdictOf(a, b, 'v8').note, /not in B/);
  });
});

describe('compare warnings', () => {
  it('says when the sets differ in code, dirty state, config hash or run length, and flags other checkouts', () => {
    const a = set('A', { hakmem: [1, 2, 3, 4, 5] }, { preset: 'current', build: 'release', configHash: 'aaaa0000' });
    const b = set('B', { hakmem: [1, 2, 3, 4, 5] }, {
      preset: 'current', build: 'release', configHash: 'bbbb1111', commit: 'f'.repeat(40), dirty: 'true', cycles: '20000000',
    });
    const w = compareSets(a, b, CHECKOUT).warnings.join('\n');
    assert.match(w, /A and B differ in code \(commit, dirty\)/);
    assert.match(w, /B \(B\) has results measured with uncommitted changes/);
    assert.match(w, /differ in hakmem config hash for current\/release: A aaaa0000, B bbbb1111/);
    assert.match(w, /differ in cycles per run/);
    assert.match(w, /B \(B\) does not match the current checkout: measured at ffffffffff/);
    assert.doesNotMatch(w, /A \(A\) does not match/);
    assert.match(w, /has no provenance record/);
  });

  it('says when one cell did different work (fingerprints)', () => {
    const a = set('A', { system: [1, 2, 3] });
    const b = set('B', { system: [1, 2, 3] }, { fingerprint: '1/2/3/4' });
    assert.match(compareSets(a, b, CHECKOUT).warnings.join('\n'), /different fingerprints .*not the same work/);
  });
});

describe('scripts/compare.ts', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hakmem-compare-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a table with the verdict, and exits 2 without two sets', () => {
    const a = set('A', { system: [100, 101, 99, 100, 102] });
    const b = set('B', { system: [150, 151, 149, 152, 148] });
    for (const [name, s] of [['a', a], ['b', b]] as const) for (const r of s.rows) appendRow(path.join(dir, `${name}.csv`), r);
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/compare.ts', ...args], {
        cwd: path.resolve(__dirname, '..'),
        encoding: 'utf8',
      });
    const ok = run([path.join(dir, 'a'), path.join(dir, 'b.csv')]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /bench\s+size\s+allocator\s+measure\s+n A\/B\s+A median\s+B median\s+B\/A\s+95% CI\s+p\s+verdict/);
    assert.match(ok.stdout, /fixed\s+128\s+system\s+end to end\s+5\/5\s+100\.0\s+150\.0\s+1\.500\s+\[[\d.]+, [\d.]+\]\s+0\.01\d\s+faster/);
    const bad = run([path.join(dir, 'a')]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /expected two result sets, got 1/);
    const missing = run([path.join(dir, 'a'), path.join(dir, 'nope')]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no result set at .*nope\.csv/);
  });

  it('formats warnings under the table', () => {
    const text = formatComparison({ a: 'A', b: 'B', cells: [], warnings: ['something differs'] });
    assert.match(text, /warnings:\n {2}! something differs/);
  });
});
