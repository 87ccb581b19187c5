import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { CellExecutionError } from '../lib/notebook/cell-error';
import { joinText, readNotebook, type CodeCell } from '../lib/notebook/nbformat';
import { runNotebookFile } from '../lib/notebook/run';

const FIXTURES = path.join(__dirname, 'fixtures');
const dir = mkdtempSync(path.join(os.tmpdir(), 'hakmem-nb-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const outputsOf = (file: string) =>
  readNotebook(file).cells.filter((c): c is CodeCell => c.cell_type === 'code').flatMap((c) => c.outputs);

describe('notebook runner (Jupyter protocol, tslab kernel)', () => {
  it('executes every cell, keeps text, HTML tables and SVG figures, and injects parameters', async () => {
    const out = path.join(dir, 'ok.ipynb');
    await runNotebookFile(path.join(FIXTURES, 'notebook-ok.ipynb'), out, { parameters: { n: 5 } });
    const outputs = outputsOf(out);
    const text = outputs.filter((o) => o.output_type === 'stream').map((o) => joinText((o as { text: string }).text)).join('');
    assert.match(text, /allocated 5 blocks/, 'the injected n = 5 replaced the default 3');
    const data = outputs.flatMap((o) => ('data' in o ? [o.data] : []));
    assert.ok(data.some((d) => /<table class="hakmem-table">/.test(joinText(d['text/html'] as string))), 'an HTML table');
    assert.ok(data.some((d) => /<svg[\s\S]*<\/svg>/.test(joinText(d['image/svg+xml'] as string))), 'an SVG figure');
    assert.ok(data.some((d) => d['application/vnd.vegalite.v5+json'] !== undefined), 'the interactive Vega-Lite bundle');
    const nb = readNotebook(out);
    assert.equal(nb.cells.filter((c) => c.metadata.tags?.includes('injected-parameters')).length, 1);
    assert.ok(JSON.parse(readFileSync(out, 'utf8')).cells.every((c: { id?: string }) => typeof c.id === 'string'), 'nbformat 4.5 cell ids');
  });

  it('fails with the number of the failing cell and the kernel error, and saves the outputs so far', async () => {
    const out = path.join(dir, 'fail.ipynb');
    await assert.rejects(
      runNotebookFile(path.join(FIXTURES, 'notebook-fail.ipynb'), out),
      (e: unknown) => e instanceof CellExecutionError && e.cellNumber === 4 && /deliberate failure in cell 4/.test(e.message),
    );
    const codeCells = readNotebook(out).cells.filter((c): c is CodeCell => c.cell_type === 'code');
    assert.match(joinText((codeCells[1].outputs[0] as { text: string }).text), /before the failure 1/);
    assert.ok(codeCells[2].outputs.some((o) => o.output_type === 'error'));
    assert.deepEqual(codeCells[3].outputs, [], 'cells after the failure do not run');
  });
});
