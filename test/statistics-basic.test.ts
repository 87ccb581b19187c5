import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootstrapMedian, bootstrapMedianRatio, mannWhitneyU, median, normalUpperTail, quantile } from '../lib/bench/matrix/statistics';

const close = (actual: number, expected: number, tol: number) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} is not within ${tol} of ${expected}`);

describe('median and quantile', () => {
  it('interpolate between order statistics (R type 7 / numpy default)', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    // numpy.quantile([1, 3, 2, 10], [0, .25, .5, .9, 1]) = [1, 1.75, 2.5, 7.9, 10]
    const xs = [1, 3, 2, 10];
    [[0, 1], [0.25, 1.75], [0.5, 2.5], [0.9, 7.9], [1, 10]].forEach(([q, v]) => close(quantile(xs, q), v, 1e-12));
  });

  it('reject empty samples and bad q', () => {
    assert.throws(() => median([]), /empty sample/);
    assert.throws(() => quantile([1], 1.5), /q must be in \[0, 1\]/);
    assert.throws(() => median([1, NaN]), /non-finite/);
  });
});

describe('normal tail', () => {
  it('matches the standard normal table', () => {
    close(normalUpperTail(0), 0.5, 1e-7);
    close(normalUpperTail(1.959964), 0.025, 1e-6);
    close(normalUpperTail(-1), 0.8413447, 1e-6);
  });
});

describe('Mann-Whitney U', () => {
  it('a worked example: complete separation of 3 and 3', () => {
    // Ranks of a = 1, 2, 3: R = 6, U = 6 - 3*4/2 = 0; mean 4.5, variance 3*3*7/12 = 5.25;
    // z = (4.5 - 0.5) / sqrt(5.25) = 1.7457 with continuity correction, p = 2 * P(Z > z) = 0.0809.
    const r = mannWhitneyU([1, 2, 3], [4, 5, 6]);
    assert.equal(r.u, 0);
    close(r.z, -1.745743, 1e-6);
    close(r.p, 0.0808556, 1e-6);
  });

  it('agrees with scipy.stats.mannwhitneyu(method="asymptotic"), without and with ties', () => {
    const r = mannWhitneyU([1.1, 2.3, 3.5, 4.2, 5.0, 6.8], [3.9, 5.5, 7.1, 8.0, 8.2, 9.4, 10.1]);
    assert.equal(r.u, 4);
    close(r.p, 0.01841616, 1e-6);
    const t = mannWhitneyU([1, 2, 2, 3, 3, 3, 4], [3, 4, 4, 5, 5, 6]);
    assert.equal(t.u, 3.5);
    close(t.p, 0.01299985, 1e-6);
  });

  it('is symmetric, and gives p = 1 for identical samples', () => {
    const a = [5, 7, 9, 11];
    const b = [6, 8, 10, 30];
    const ab = mannWhitneyU(a, b);
    const ba = mannWhitneyU(b, a);
    close(ab.p, ba.p, 1e-12);
    assert.equal(ab.u + ba.u, a.length * b.length);
    assert.equal(mannWhitneyU([2, 2, 2], [2, 2, 2]).p, 1);
  });
});

describe('bootstrap interval of a median ratio', () => {
  it('is exact for constant samples', () => {
    const r = bootstrapMedianRatio([10, 10, 10, 10], [20, 20, 20, 20]);
    assert.deepEqual([r.ratio, r.low, r.high, r.level], [2, 2, 2, 0.95]);
  });

  it('is reproducible for a seed and brackets the ratio', () => {
    const a = [100, 103, 98, 101, 99, 102, 97];
    const b = [120, 118, 125, 121, 119, 123, 117];
    const r1 = bootstrapMedianRatio(a, b, { seed: 7 });
    const r2 = bootstrapMedianRatio(a, b, { seed: 7 });
    assert.deepEqual(r1, r2);
    close(r1.ratio, 120 / 100, 1e-12);
    assert.ok(r1.low <= r1.ratio && r1.ratio <= r1.high);
    assert.ok(r1.low > 1.1 && r1.high < 1.3, `${r1.low}..${r1.high}`);
  });

  it('widens with the spread and covers 1 for overlapping samples', () => {
    const r = bootstrapMedianRatio([90, 110, 100, 95, 105], [92, 108, 101, 97, 103]);
    assert.ok(r.low < 1 && r.high > 1);
  });
});

describe('bootstrap interval of a median', () => {
  it('is exact for a constant sample and brackets the median otherwise, reproducibly', () => {
    assert.deepEqual(bootstrapMedian([0.9, 0.9, 0.9]), { ratio: 0.9, low: 0.9, high: 0.9, level: 0.95 });
    const xs = [0.82, 0.91, 0.88, 0.95, 0.86, 0.9, 0.84, 0.93, 0.89];
    const r = bootstrapMedian(xs, { seed: 3 });
    assert.deepEqual(r, bootstrapMedian(xs, { seed: 3 }));
    assert.equal(r.ratio, 0.89);
    assert.ok(r.low <= r.ratio && r.ratio <= r.high && r.high < 1, `${r.low}..${r.high}`);
    const spread = bootstrapMedian([0.7, 1.3, 0.9, 1.1, 1.0]);
    assert.ok(spread.low < 1 && spread.high > 1, 'a sample around 1 gives an interval across it');
    assert.throws(() => bootstrapMedian([]), /bootstrapMedian: empty sample/);
  });
});
