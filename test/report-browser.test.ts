// The reports as a reader uses them, in headless Chromium from file:// with no network: the charts go
// live, a bar's tooltip shows what the data holds, the footprint timeline zooms, a legend entry picks
// a series, the CSV action gives the chart's rows, and the static SVG stays for no-script and print.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { reportIndexHtml } from '../lib/notebook/export-html';
import { footprintTimeline, renderSvg, throughputBySize, type ThroughputRow, type TimelineRow, type VegaLiteSpec } from '../lib/report';
import { writeChartAssets } from '../lib/report/chart-assets';
import { buildHistory } from '../lib/report/history/history';
import { historyTrendsHtml, writeHistoryPage } from '../lib/report/history/history-page';
import { findResultSets } from '../lib/report/history/find-result-sets';
import { chartHtml, page } from '../lib/report/html-page';
import { throughputPoints } from '../lib/report/specs/throughput-points';
import { chromiumPath, launchChromium, NO_CHROMIUM } from './fixtures/browser';
import { writeFixtureSet } from './fixtures/result-sets';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hakmem-browser-'));

// Three runs each: system about 80M, hakmem about 60M, at two sizes.
const rows: ThroughputRow[] = [];
for (const size of [16, 1024]) {
  for (const [allocator, base] of [['system', 80e6], ['hakmem', 60e6]] as const) {
    for (const rep of [0, 1, 2]) rows.push({ bench: 'fixed', size, allocator, rep, opsPerSec: base + (rep - 1) * (size === 16 ? 1e6 : 2e6) });
  }
}
// 2000 samples per allocator: the footprint climbs to 8 MiB over a million ops.
const timeline: TimelineRow[] = ['hakmem', 'system'].flatMap((allocator, k) =>
  Array.from({ length: 2000 }, (_, i) => ({ allocator, op: i * 500, liveBytes: i * 2000, footprintBytes: i * 2000 * (1.2 + k * 0.3) })),
);

async function chartPage(file: string, title: string, specs: VegaLiteSpec[]): Promise<void> {
  const charts = await Promise.all(specs.map(async (spec) => chartHtml(spec, await renderSvg(spec))));
  writeFileSync(path.join(dir, file), page(title, `<h1>${title}</h1>\n${charts.join('\n')}`));
}

/** Runs in the page: the x domain of its first live chart (the page script keeps the views in reportCharts). */
function firstChartXDomain(): number[] {
  const page = globalThis as unknown as { reportCharts: { view: { scale: (name: string) => { domain: () => number[] } } }[] };
  return page.reportCharts[0].view.scale('x').domain();
}

const skip = chromiumPath() === null ? NO_CHROMIUM : false;

describe('reports in a browser', { skip }, () => {
  let browser: Browser;
  const openTimes: Record<string, number> = {};

  before(async () => {
    await chartPage('overview.html', 'Overview', [throughputBySize(rows)]);
    await chartPage('footprint.html', 'Footprint', [footprintTimeline(timeline)]);
    const sets = path.join(dir, 'sets');
    writeFixtureSet(sets, 'old', { commit: 'a'.repeat(40), date: '2026-01-01T00:00:00Z', hakmem: [80, 81, 79, 80.5, 79.5].map((x) => x * 1e6) });
    writeFixtureSet(sets, 'new', { commit: 'b'.repeat(40), date: '2026-02-01T00:00:00Z', hakmem: [90, 91, 89, 90.5, 89.5].map((x) => x * 1e6) });
    const history = buildHistory(findResultSets(['sets'], dir), dir);
    await writeHistoryPage(history, dir);
    writeFileSync(path.join(dir, 'index.html'), reportIndexHtml([{ title: 'Overview', file: 'overview.html' }], {}, await historyTrendsHtml(history)));
    writeChartAssets(dir);
    browser = await launchChromium(chromiumPath()!);
  });

  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a report as a reader would; fails on any request off disk and on any console error. */
  async function open(file: string, t: { after: (fn: () => unknown) => void }, options: { javaScriptEnabled?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({ acceptDownloads: true, ...options });
    t.after(() => context.close());
    const offDisk: string[] = [];
    const errors: string[] = [];
    context.on('request', (r) => !/^(file|data):/.test(r.url()) && offDisk.push(r.url()));
    const p = await context.newPage();
    p.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    p.on('pageerror', (e) => errors.push(e.message));
    t.after(() => {
      assert.deepEqual(offDisk, [], `${file}: no network requests`);
      assert.deepEqual(errors, [], `${file}: no console errors`);
    });
    const start = Date.now();
    await p.goto(`file://${path.join(dir, file)}`);
    if (options.javaScriptEnabled !== false) {
      const figures = await p.locator('figure.chart').count();
      await p.waitForSelector(`html[data-charts-ready="${figures}"]`, { timeout: 20_000 });
      openTimes[file] = Date.now() - start;
    }
    return p;
  }

  it('every page opens from disk with all its charts live and no request off disk', async (t) => {
    for (const file of ['index.html', 'overview.html', 'footprint.html', 'history.html']) {
      const p = await open(file, t);
      assert.equal(await p.locator('figure.chart.live .chart-live svg.marks').count(), await p.locator('figure.chart').count(), file);
      assert.equal(await p.locator('figure.chart.live .chart-static').first().isVisible(), false, `${file}: the static copy hides behind the live chart`);
    }
    assert.equal(await (await open('index.html', t)).locator('.trends figure.chart').count(), 1, 'the index has a trend per key figure the sets hold');
    t.diagnostic(`open until all charts are live (ms): ${JSON.stringify(openTimes)}`);
  });

  it('hovering a bar in the overview shows its value, runs and interval as the data holds them', async (t) => {
    const p = await open('overview.html', t);
    const expected = throughputPoints(rows).find((x) => x.series === 'hakmem' && x.size === '16')!;
    await p.locator('.chart-live path[aria-roledescription="bar"][aria-label*="allocator: hakmem;"][aria-label*="block size (bytes): 16;"]').hover();
    const tooltip = p.locator('#vg-tooltip-element');
    await tooltip.waitFor({ state: 'visible' });
    const text = await tooltip.innerText();
    assert.match(text, /allocator\s+hakmem/);
    assert.match(text, new RegExp(`M ops/s \\(median\\)\\s+${expected.mops.toFixed(2)}`));
    assert.match(text, /runs\s+3/);
    assert.match(text, new RegExp(`vs system\\s+${expected.ratioLabel}`));
    assert.ok(expected.intervalLabel, 'the fixture has an interval');
    assert.ok(text.includes(expected.intervalLabel!), `the bootstrap interval ${expected.intervalLabel} in: ${text}`);
  });

  it('clicking a legend entry brings that allocator forward and dims the others', async (t) => {
    const p = await open('overview.html', t);
    const bar = (who: string) => p.locator(`.chart-live path[aria-roledescription="bar"][aria-label*="allocator: ${who};"]`).first();
    assert.equal(await bar('system').getAttribute('opacity'), '1', 'every bar at full opacity while nothing is picked');
    await p.locator('.chart-live .role-legend-label text', { hasText: /^hakmem$/ }).click();
    assert.equal(await bar('system').getAttribute('opacity'), '0.15');
    assert.equal(await bar('hakmem').getAttribute('opacity'), '1');
  });

  it('the footprint timeline zooms with the wheel', async (t) => {
    const p = await open('footprint.html', t);
    const domain = () => p.evaluate(firstChartXDomain);
    const [lo, hi] = await domain();
    assert.deepEqual([lo, hi], [0, 1_000_000], 'the whole run before zooming');
    const box = (await p.locator('.chart-live svg.marks').boundingBox())!;
    await p.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.5);
    await p.mouse.wheel(0, -400);
    let [zlo, zhi] = await domain();
    // The view redraws asynchronously after the wheel event.
    for (let i = 0; i < 50 && zhi === hi; i++) {
      await p.waitForTimeout(20);
      [zlo, zhi] = await domain();
    }
    assert.ok(zhi - zlo < (hi - lo) * 0.9 && zlo >= 0, `zoomed in: [${zlo}, ${zhi}]`);
  });

  it('the CSV action gives the chart rows', async (t) => {
    const p = await open('overview.html', t);
    await p.locator('.vega-embed details > summary').click();
    const [download] = await Promise.all([p.waitForEvent('download'), p.locator('.vega-actions a', { hasText: 'Save data as CSV' }).click()]);
    assert.equal(download.suggestedFilename(), 'throughput-by-block-size-fixed.csv');
    const [header, ...lines] = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    const columns = header.split(',');
    const points = throughputPoints(rows);
    assert.equal(lines.length, points.length, 'one row per bar');
    const hakmem16 = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [columns[i], v]))).find((r) => r.series === 'hakmem' && r.size === '16')!;
    const expected = points.find((x) => x.series === 'hakmem' && x.size === '16')!;
    assert.equal(Number(hakmem16.mops), expected.mops);
    assert.equal(Number(hakmem16.reps), 3);
    assert.equal(Number(hakmem16.low), expected.low);
    const menu = await p.locator('.vega-actions a').allInnerTexts();
    assert.deepEqual(menu, ['Save as SVG', 'Save as PNG', 'Save data as CSV', 'View Vega-Lite spec']);
  });

  it('hovering a history point shows its provenance and verdict', async (t) => {
    const p = await open('history.html', t);
    await p.locator('.chart-live path[aria-roledescription="point"][aria-label*="commit: bbbbbbbbbb"]').hover();
    const text = await p.locator('#vg-tooltip-element').innerText();
    assert.match(text, /vs the point before\s+better/);
    assert.match(text, /runs\s+5/);
    assert.match(text, /result set\s+sets\/new\.csv/);
    assert.match(text, /machine\s+Test CPU x2/);
  });

  it('without scripts, and in print, the static SVG is the figure', async (t) => {
    const noScript = await open('overview.html', t, { javaScriptEnabled: false });
    const box = await noScript.locator('.chart-static svg').boundingBox();
    assert.ok(box && box.width > 100 && box.height > 100, `the static SVG is laid out (${JSON.stringify(box)})`);
    const p = await open('overview.html', t);
    await p.emulateMedia({ media: 'print' });
    assert.equal(await p.locator('.chart-static').isVisible(), true);
    assert.equal(await p.locator('.chart-live').isVisible(), false);
  });
});
