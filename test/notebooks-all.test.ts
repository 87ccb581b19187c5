import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { listNotebooks, NOTEBOOK_DIR } from '../lib/notebook/batch';
import { installKernelSpec } from '../lib/notebook/kernelspec';
import { joinText, readNotebook, type CodeCell, type Output } from '../lib/notebook/nbformat';
import { jupyterEnv, PROJECT_ROOT } from '../lib/notebook/paths';
import { runNotebookFile } from '../lib/notebook/run';
import { checkStandardSuite } from './fixtures/standard-suite-checks';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hakmem-notebooks-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const names = listNotebooks();
const hasJupyter = spawnSync('jupyter', ['nbconvert', '--version'], { stdio: 'ignore' }).status === 0;
/** What particular notebooks must show beyond a table and a figure. */
const OUTPUT_CHECKS: Record<string, (outputs: readonly Output[]) => void> = { 'standard-suite': checkStandardSuite };

/**
 * What every executed notebook must show: no error, nothing on stderr but progress bars, an SVG figure,
 * a table, and what OUTPUT_CHECKS asks of it.
 */
function checkOutputs(name: string, file: string): void {
  const cells = readNotebook(file).cells.filter((c): c is CodeCell => c.cell_type === 'code');
  const problems = cells
    .flatMap((c, i) => c.outputs.map((o) => ({ cell: i + 1, o })))
    .filter(({ o }) => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr' && !/\[[#-]+\]/.test(joinText(o.text))))
    .map(({ cell, o }) => `code cell ${cell}: ${o.output_type === 'error' ? `${o.ename}: ${o.evalue}` : joinText((o as { text: string }).text)}`);
  assert.deepEqual(problems, [], 'cells failed or wrote to stderr');
  const outputs = cells.flatMap((c) => c.outputs);
  const data = outputs.flatMap((o) => ('data' in o ? [o.data] : []));
  assert.ok(data.some((d) => /<svg/.test(joinText(d['image/svg+xml'] as string))), 'an SVG figure');
  assert.ok(data.some((d) => /<table class="hakmem-table">/.test(joinText(d['text/html'] as string))), 'a table');
  OUTPUT_CHECKS[name]?.(outputs);
}

// Each notebook runs once, in Jupyter's own client, as Jupyter Lab users run it (its parameters cell holds
// the quick profile). The batch runner (npm run notebooks) executes the same kernel over the same wire
// protocol; it runs one notebook here with the profile injected, and its own tests cover the rest of it.
const BATCH_NOTEBOOK = 'explore-your-workload';

describe('every notebook, quick profile', () => {
  it('finds the notebooks', () => assert.ok(names.length >= 6 && names.includes(BATCH_NOTEBOOK), names.join(', ')));

  it(`${BATCH_NOTEBOOK}: runs through the batch runner with the quick profile injected and shows a table and a figure`, async () => {
    const out = path.join(dir, `${BATCH_NOTEBOOK}.ipynb`);
    await runNotebookFile(path.join(NOTEBOOK_DIR, `${BATCH_NOTEBOOK}.ipynb`), out, { parameters: { profile: 'quick' } });
    checkOutputs(BATCH_NOTEBOOK, out);
  });

  for (const name of names) {
    it(`${name}: runs in Jupyter's own client (nbconvert --execute) and shows a table and a figure`, (t) => {
      if (!hasJupyter) return t.skip('jupyter nbconvert is not installed (CI installs jupyter-nbconvert and python3-nbclient)');
      installKernelSpec(PROJECT_ROOT);
      // --allow-errors keeps the executed notebook, so a failure shows the kernel's own error and stderr.
      const r = spawnSync(
        'jupyter',
        ['nbconvert', '--to', 'notebook', '--execute', '--allow-errors', '--ExecutePreprocessor.timeout=900', '--output-dir', dir, '--output', `${name}.nbconvert`, path.join(NOTEBOOK_DIR, `${name}.ipynb`)],
        { env: jupyterEnv(PROJECT_ROOT), encoding: 'utf8', timeout: 20 * 60_000 },
      );
      assert.equal(r.status, 0, `nbconvert failed:\n${r.stderr.split('\n').slice(-25).join('\n')}`);
      checkOutputs(name, path.join(dir, `${name}.nbconvert.ipynb`));
    });
  }
});
