import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { installKernelSpec } from '../lib/notebook/kernelspec';
import { joinText, readNotebook, type CodeCell } from '../lib/notebook/nbformat';
import { jupyterEnv, PROJECT_ROOT } from '../lib/notebook/paths';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hakmem-nbconvert-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const hasJupyter = spawnSync('jupyter', ['nbconvert', '--version'], { stdio: 'ignore' }).status === 0;

describe("Jupyter's own client on the project kernel", () => {
  it('nbconvert --execute runs the fixture with the project-local kernelspec', (t) => {
    if (!hasJupyter) return t.skip('jupyter nbconvert is not installed (CI installs jupyter-nbconvert and python3-nbclient)');
    installKernelSpec(PROJECT_ROOT);
    const r = spawnSync(
      'jupyter',
      ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.timeout=120', '--output-dir', dir, '--output', 'ok',
        path.join(__dirname, 'fixtures', 'notebook-ok.ipynb')],
      { env: jupyterEnv(PROJECT_ROOT), encoding: 'utf8', timeout: 180_000 },
    );
    assert.equal(r.status, 0, `nbconvert failed:\n${r.stderr.split('\n').slice(-20).join('\n')}`);
    const outputs = readNotebook(path.join(dir, 'ok.ipynb')).cells.filter((c): c is CodeCell => c.cell_type === 'code').flatMap((c) => c.outputs);
    assert.ok(outputs.some((o) => o.output_type === 'stream' && /allocated 3 blocks/.test(joinText(o.text))));
    assert.ok(outputs.some((o) => 'data' in o && /<svg/.test(joinText(o.data['image/svg+xml'] as string))), 'the SVG figure');
  });
});
