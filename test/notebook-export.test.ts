import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { notebookToHtml, reportIndexHtml } from '../lib/notebook/export-html';
import { runNotebookFile } from '../lib/notebook/run';
import { writeChartAssets } from '../lib/report/chart-assets';
import { chromiumPath, launchChromium, NO_CHROMIUM } from './fixtures/browser';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hakmem-html-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('HTML reports', () => {
  it('renders markdown, code, tables and SVG figures into a standalone page with provenance', async () => {
    const nb = await runNotebookFile(path.join(__dirname, 'fixtures', 'notebook-ok.ipynb'), path.join(dir, 'ok.ipynb'));
    const html = notebookToHtml(nb, 'Fixture', { commit: 'abc123', profile: 'quick' });
    assert.match(html, /<h1>Fixture: a notebook that works<\/h1>/, 'markdown rendered by marked');
    assert.match(html, /<pre class="code"><code>import \{ createHeap/);
    assert.match(html, /<table class="hakmem-table">/);
    assert.match(html, /<figure class="output chart"><div class="chart-static"><svg/, 'the plot: its static SVG and its spec');
    assert.match(html, /<script type="application\/vnd.vegalite.v5\+json">\{"\$schema"/);
    assert.match(html, /<script defer src="assets\/report-charts.js"><\/script>/);
    assert.match(html, /<th>commit<\/th><td>abc123<\/td>/);
    assert.doesNotMatch(html, /<(script|link)\b[^>]*(src|href)="https?:/, 'no external resources');
    writeFileSync(path.join(dir, 'fixture.html'), html);
    writeChartAssets(dir);
    writeFileSync(path.join(dir, 'index.html'), reportIndexHtml([{ title: 'Fixture', file: 'fixture.html' }]));
  });

  it('opens from disk in headless Chromium without console errors and shows the figure live', async (t) => {
    const executablePath = chromiumPath();
    if (!executablePath) return t.skip(NO_CHROMIUM);
    const browser = await launchChromium(executablePath);
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`file://${path.join(dir, 'fixture.html')}`);
      await page.waitForSelector('html[data-charts-ready="1"]');
      const box = await page.locator('.chart-live svg').first().boundingBox();
      assert.ok(box && box.width > 100 && box.height > 50, `the SVG figure is laid out (${JSON.stringify(box)})`);
      assert.ok((await page.locator('table.hakmem-table tr').count()) >= 4, 'the table rows are there');
      await page.goto(`file://${path.join(dir, 'index.html')}`);
      await page.click('text=Fixture');
      assert.match(page.url(), /fixture\.html$/, 'the index links the report');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});
