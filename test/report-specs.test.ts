import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engineRatios, footprintTimeline, heapMap, latencyPercentiles, plot, ratioToSystem, renderSvg, replayRatios, replayUtilization, routeShares, scaling, throughputBySize, type ThroughputRow } from '../lib/report';
import { latencyRows, replayRows, timelineRows, traceName } from '../lib/report/result-rows';
import type { BenchResult } from '../lib/bench/runner';
import { sizeOrder, throughputPoints } from '../lib/report/specs/throughput-points';

// system 80M, hakmem 60M (0.75x) at every size; 3 repetitions each.
const rows: ThroughputRow[] = [];
for (const size of [1024, 16, 'mixed'] as const) {
  for (const [allocator, base] of [['system', 80e6], ['hakmem', 60e6]] as const) {
    for (const rep of [0, 1, 2]) rows.push({ bench: 'random-mixed', size, allocator, preset: allocator === 'hakmem' ? 'phase7' : '', rep, opsPerSec: base + (rep - 1) * 1e6 });
  }
}
const texts = (svg: string) => [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);

describe('report chart specs', () => {
  it('reduces repetitions to medians with the ratio to system, sizes ascending then mixed', () => {
    const points = throughputPoints(rows);
    const hakmem16 = points.find((p) => p.series === 'hakmem' && p.size === '16');
    assert.equal(hakmem16?.mops, 60);
    assert.equal(hakmem16?.ratioLabel, '0.75×');
    assert.equal(points.find((p) => p.series === 'system')?.ratio, null);
    assert.deepEqual(sizeOrder(points), ['16', '1024', 'mixed']);
  });

  it('throughputBySize: bars per allocator and size, ratio labels, axis titles', async () => {
    const svg = await renderSvg(throughputBySize(rows));
    assert.ok((svg.match(/<path[^>]*aria-roledescription="bar"/g) ?? []).length === 6, 'one bar per (size, allocator)');
    const t = texts(svg);
    assert.equal(t.filter((s) => s === '0.75×').length, 3, 'a ratio label over each hakmem bar');
    for (const label of ['16', '1024', 'mixed', 'system', 'hakmem', 'block size (bytes)', 'M ops/s (median)']) assert.ok(t.includes(label), label);
  });

  it('throughputBySize: one panel per bench when there are several', async () => {
    const svg = await renderSvg(throughputBySize([...rows, ...rows.map((r) => ({ ...r, bench: 'fixed-size' }))]));
    const t = texts(svg);
    assert.ok(t.includes('random-mixed') && t.includes('fixed-size'));
  });

  it('ratioToSystem: ratio bars for the non-baseline series and the 1.00x line', async () => {
    const t = texts(await renderSvg(ratioToSystem(rows)));
    assert.ok(t.includes('system = 1.00×'));
    assert.equal(t.filter((s) => s === '0.75×').length, 3);
    assert.ok(!t.includes('system'), 'the baseline is the line, not a bar series');
  });

  it('engineRatios: one bar per engine and workload, each ratio to the system baseline of its own engine', async () => {
    // On bun the baseline runs at 40M and hakmem at 50M: 1.25x there, 0.75x on node.
    const bun = rows.map((r) => ({ ...r, engine: 'bun', allocator: r.allocator === 'hakmem' ? 'hakmem:current' : r.allocator, opsPerSec: r.allocator === 'system' ? 40e6 : 50e6 }));
    const node = rows.map((r) => ({ ...r, engine: 'node', allocator: r.allocator === 'hakmem' ? 'hakmem:current' : r.allocator }));
    const svg = await renderSvg(engineRatios([...bun, ...node]));
    assert.equal((svg.match(/<path[^>]*aria-roledescription="bar"/g) ?? []).length, 6, 'one bar per (workload, engine)');
    const t = texts(svg);
    assert.equal(t.filter((s) => s === '0.75×').length, 3);
    assert.equal(t.filter((s) => s === '1.25×').length, 3);
    for (const label of ['node', 'bun', '16 B', '1024 B', 'mixed 16..1024', 'engine']) assert.ok(t.includes(label), label);
  });

  it('routeShares: 100% bars per preset with percentage labels', async () => {
    const t = texts(await renderSvg(routeShares([
      { preset: 'phase7', route: 'header_fast', count: 90 },
      { preset: 'phase7', route: 'ss_hit', count: 10 },
      { preset: 'phase6', route: 'ss_hit', count: 50 },
    ])));
    for (const label of ['90%', '10%', '100%', 'header_fast', 'ss_hit', 'phase6', 'phase7']) assert.ok(t.includes(label), label);
  });

  it('scaling: one line per allocator over the thread counts', async () => {
    const svg = await renderSvg(scaling([1, 2, 4].flatMap((threads) => [
      { allocator: 'system', threads, opsPerSec: threads * 1e7 },
      { allocator: 'hakmem', threads, opsPerSec: threads * 8e6 },
    ])));
    assert.equal((svg.match(/aria-roledescription="line mark"/g) ?? []).length, 2);
    const t = texts(svg);
    for (const label of ['1', '2', '4', 'threads']) assert.ok(t.includes(label), label);
  });

  it('heapMap: a square per slab, labelled with its class', async () => {
    const svg = await renderSvg(heapMap([
      { superslab: 0, slab: 0, cls: 3, used: 5, capacity: 10 },
      { superslab: 0, slab: 1, cls: null, used: 0, capacity: 0 },
      { superslab: 1, slab: 0, cls: 7, used: 10, capacity: 10 },
    ]));
    const rects = /class="mark-rect role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
    assert.equal((rects.match(/<path/g) ?? []).length, 3);
    const t = texts(svg);
    assert.ok(t.includes('C3') && t.includes('C7') && t.includes('SuperSlab'));
  });

  it('footprintTimeline: a live and a footprint line per allocator; none for a footprint that is null', async () => {
    const result = (allocator: string, footprint: number | null) =>
      ({ allocator, preset: allocator === 'hakmem' ? 'current' : null, build: 'release',
         timeline: [1000, 2000, 3000].map((op) => ({ op, liveBytes: op << 10, footprintBytes: footprint === null ? null : footprint * op << 10 })) }) as unknown as BenchResult;
    const rows = timelineRows([result('hakmem', 2), result('system', 1.5), result('v8', null)]);
    assert.equal(rows.length, 9);
    assert.equal(rows[0].allocator, 'hakmem:current');
    const svg = await renderSvg(footprintTimeline(rows));
    assert.equal((svg.match(/aria-roledescription="line mark"/g) ?? []).length, 5, 'live x 3 allocators, footprint x 2');
    const t = texts(svg);
    for (const label of ['ops', 'MiB', 'live', 'footprint', 'hakmem:current', 'system', 'v8']) assert.ok(t.includes(label), label);
  });

  it('latencyPercentiles: per op kind a panel, a line per allocator over p50 .. max on a log axis', async () => {
    const ops = { malloc: { count: 10, p50: 20, p90: 30, p99: 100, 'p99.9': 1000, 'p99.99': 5000, max: 20000 },
                  free: { count: 10, p50: 0, p90: 15, p99: 50, 'p99.9': 400, 'p99.99': 900, max: 3000 } };
    const rows = latencyRows([
      { allocator: 'system', preset: null, build: null, latency: { clock: 'c', timerCostNs: 20, ops } },
      { allocator: 'hakmem', preset: 'current', build: 'release', latency: { clock: 'c', timerCostNs: 40, ops: { malloc: ops.malloc } } },
    ] as unknown as BenchResult[]);
    assert.equal(rows.length, 3 * 6);
    assert.deepEqual(rows.slice(0, 6).map((r) => r.percentile), ['p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max']);
    const spec = latencyPercentiles(rows) as { spec: { encoding: { y: { scale: { type: string } } } } };
    assert.equal(spec.spec.encoding.y.scale.type, 'log');
    const svg = await renderSvg(latencyPercentiles(rows));
    assert.equal((svg.match(/aria-roledescription="line mark"/g) ?? []).length, 3);
    const t = texts(svg);
    for (const label of ['malloc', 'free', 'p50', 'p99.99', 'max', 'ns', '1,000']) assert.ok(t.includes(label), label);
  });

  it('replayRows, replayRatios, replayUtilization: per trace a bar per allocator, medians over repetitions', async () => {
    // git-log: system 100M, hakmem 50M (0.50x); gcc-cc1: system 80M, hakmem 60M (0.75x); mimalloc skipped.
    const run = (file: string, allocator: string, rep: number, mops: number, footprint: number | null) =>
      ({ bench: 'replay', allocator, preset: allocator === 'hakmem' ? 'current' : null, build: allocator === 'hakmem' ? 'release' : null,
         align: allocator === 'hakmem' ? 1 : null, args: { file, loops: 1 }, rep, opsPerSec: mops === 0 ? null : mops * 1e6,
         peakLiveBytes: 600, peakFootprintBytes: footprint, utilization: footprint === null ? null : 600 / footprint }) as unknown as BenchResult & { rep: number };
    const results = [1, 2, 3].flatMap((rep) => [
      run('data/traces/git-log.trace.gz', 'system', rep, 100 + rep - 2, 800),
      run('data/traces/git-log.trace.gz', 'hakmem', rep, 50 + rep - 2, 1000),
      run('data/traces/git-log.trace.gz', 'mimalloc', rep, 0, null),
      run('/tmp/gcc-cc1.hktrace', 'system', rep, 80, 800),
      run('/tmp/gcc-cc1.hktrace', 'hakmem', rep, 60, rep === 3 ? 2000 : 1000),
    ]);
    const rows = replayRows(results);
    assert.equal(rows.length, 12, 'skipped runs are left out');
    assert.deepEqual([...new Set(rows.map((r) => r.trace))], ['git-log', 'gcc-cc1']);
    assert.deepEqual([...new Set(rows.map((r) => r.allocator))], ['system', 'hakmem:current']);
    assert.equal(traceName('x/y/mine.hktrace.gz'), 'mine');
    assert.equal(traceName('trace.txt'), 'trace.txt');

    const ratios = await renderSvg(replayRatios(rows));
    assert.equal((ratios.match(/<path[^>]*aria-roledescription="bar"/g) ?? []).length, 2, 'one bar per trace for hakmem; glibc is the line');
    let t = texts(ratios);
    for (const label of ['0.50×', '0.75×', 'glibc = 1.00×', 'git-log', 'gcc-cc1', 'trace', '× glibc (median)']) assert.ok(t.includes(label), label);

    const util = await renderSvg(replayUtilization(rows));
    assert.equal((util.match(/<path[^>]*aria-roledescription="bar"/g) ?? []).length, 4, 'a bar per allocator and trace, glibc included');
    t = texts(util);
    for (const label of ['75%', '60%', 'system', 'hakmem:current', '1.0 = no overhead']) assert.ok(t.includes(label), label);
    const bars = (replayUtilization(rows) as unknown as { layer: [{ data: { values: { trace: string; series: string; utilization: number }[] } }] }).layer[0].data.values;
    assert.deepEqual(bars.filter((b) => b.series === 'hakmem:current').map((b) => [b.trace, b.utilization]), [['git-log', 0.6], ['gcc-cc1', 0.6]], 'the median leaves out the one 30% run');
  });

  it('replayRows reads the oracle split from the fastest passes where a run has them, else from the sums', () => {
    const run = (best: boolean) =>
      ({ bench: 'replay', allocator: 'system', preset: null, build: null, align: null, args: { file: 'data/traces/gs-pages.trace.gz', loops: 6 },
         opsPerSec: 1e8, peakLiveBytes: 600, harnessNsPerOp: 6, allocatorNsPerOp: 4, ...(best ? { harnessBestPassNsPerOp: 2.7, allocatorBestPassNsPerOp: 6.9 } : {}) }) as unknown as BenchResult;
    const [fastest, sums] = replayRows([run(true), run(false)]);
    assert.deepEqual([fastest.harnessNsPerOp, fastest.allocatorNsPerOp], [2.7, 6.9]);
    assert.deepEqual([sums.harnessNsPerOp, sums.allocatorNsPerOp], [6, 4]);
  });

  it('replayRatios of the allocator only: rates from its ns per op less the oracle, runs without one left out', async () => {
    // git-log: glibc's allocator 20 ns/op, hakmem's 10 (2.00x); end to end hakmem is the slower (0.50x).
    const run = (allocator: string, rep: number, mops: number, allocatorNsPerOp: number | null) =>
      ({ bench: 'replay', allocator, preset: allocator === 'hakmem' ? 'current' : null, build: allocator === 'hakmem' ? 'release' : null,
         align: allocator === 'hakmem' ? 1 : null, args: { file: 'data/traces/git-log.trace.gz', loops: 1 }, rep, opsPerSec: mops * 1e6,
         peakLiveBytes: 600, peakFootprintBytes: 800, utilization: 0.75, harnessNsPerOp: 5, allocatorNsPerOp }) as unknown as BenchResult & { rep: number };
    const rows = replayRows([1, 2, 3].flatMap((rep) => [run('system', rep, 100, 20), run('hakmem', rep, 50, rep === 3 ? null : 10)]));
    assert.deepEqual(rows.map((r) => r.allocatorNsPerOp), [20, 10, 20, 10, 20, null]);
    type Bars = { layer: [{ data: { values: { series: string; ratio: number; reps: number }[] } }] };
    const spec = replayRatios(rows, 'allocator only', 'allocator only');
    const bars = (spec as unknown as Bars).layer[0].data.values;
    assert.deepEqual(bars.map((b) => [b.series, b.ratio, b.reps]), [['hakmem:current', 2, 2]]);
    const endToEnd = (replayRatios(rows) as unknown as Bars).layer[0].data.values;
    assert.deepEqual(endToEnd.map((b) => [b.series, b.ratio, b.reps]), [['hakmem:current', 0.5, 3]]);
    assert.ok(texts(await renderSvg(spec)).includes('2.00×'));
  });

  it('plot() outside a notebook returns the SVG', async () => {
    const svg = await plot(heapMap([{ superslab: 0, slab: 0, cls: 1, used: 1, capacity: 2 }]));
    assert.match(svg ?? '', /^<svg[\s\S]*<\/svg>$/);
  });
});

describe('series names', () => {
  it("names hakmem by preset, with the block alignment when it is not the preset's own", async () => {
    const { seriesName } = await import('../lib/report/result-rows');
    assert.equal(seriesName('hakmem', 'current', 'release', '1'), 'hakmem:current');
    assert.equal(seriesName('hakmem', 'current', 'release', '16'), 'hakmem:current:align16');
    assert.equal(seriesName('hakmem', 'aligned', 'release', 16), 'hakmem:aligned');
    assert.equal(seriesName('hakmem', 'aligned', 'debug', 8), 'hakmem:aligned:align8/debug');
    assert.equal(seriesName('hakmem', 'phase7', 'release', null), 'hakmem:phase7');
    assert.equal(seriesName('system', '', '', ''), 'system');
  });
});
