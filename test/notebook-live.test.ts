import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { joinText, type CodeCell } from '../lib/notebook/nbformat';
import { runNotebookFile } from '../lib/notebook/run';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hakmem-live-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('notebook runner: live displays and parameters without a parameters cell', () => {
  it('keeps one progress display, updated in place, and declares injected values first', async () => {
    const nb = await runNotebookFile(path.join(__dirname, 'fixtures', 'notebook-live.ipynb'), path.join(dir, 'live.ipynb'), {
      parameters: { label: 'hello' },
    });
    const code = nb.cells.filter((c): c is CodeCell => c.cell_type === 'code');
    assert.match(joinText(code[0].source), /^\/\/ injected parameters\nconst label = "hello";$/, 'the injected cell comes first');
    const progress = code[1].outputs;
    assert.equal(progress.length, 1, 'update_display_data replaced the first display, no new outputs');
    assert.equal(progress[0].output_type, 'display_data');
    assert.match(joinText((progress[0] as { data: Record<string, string> }).data['text/plain']), /^work \[#{30}\] 10\/10 100% /);
    assert.match(joinText((code[2].outputs[0] as { text: string }).text), /label is hello/);
  });
});
