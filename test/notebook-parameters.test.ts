import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorFromStderr } from '../lib/notebook/cell-error';
import { joinText, type Cell, type Notebook } from '../lib/notebook/nbformat';
import { injectParameters } from '../lib/notebook/parameters';

const code = (source: string, tags?: string[]): Cell => ({ cell_type: 'code', source, metadata: tags ? { tags } : {}, outputs: [], execution_count: null });
const nb = (...cells: Cell[]): Notebook => ({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells });

describe('papermill-style parameters', () => {
  it('assigns the values in a cell right after the parameters cell, replacing an earlier injection', () => {
    const once = injectParameters(nb(code('import x'), code('let profile = "full";', ['parameters']), code('use(profile)')), { profile: 'quick', n: 3 });
    const twice = injectParameters(once, { profile: 'full' });
    assert.deepEqual(twice.cells.map((c) => joinText(c.source)), [
      'import x', 'let profile = "full";', '// injected parameters\nprofile = "full";', 'use(profile)',
    ]);
    assert.deepEqual(twice.cells[2].metadata.tags, ['injected-parameters']);
  });

  it('declares them first when the notebook has no parameters cell', () => {
    const out = injectParameters(nb(code('use(n)')), { n: 3, sizes: [16, 32] });
    assert.equal(joinText(out.cells[0].source), '// injected parameters\nconst n = 3;\nconst sizes = [16,32];');
  });

  it('rejects names that are not identifiers', () => {
    assert.throws(() => injectParameters(nb(), { 'bad-name': 1 }), /not a TypeScript identifier/);
  });
});

describe('reading the error of a failed tslab cell', () => {
  it('takes the name and message of a thrown error, after other stderr output', () => {
    const e = errorFromStderr('debug: before\nevalmachine.<anonymous>:8\nthrow new HeapError("x");\n^\n\nHeapError: pointer 0x10 is bad\n    at evalmachine.<anonymous>:8:7\n');
    assert.equal(e.ename, 'HeapError');
    assert.equal(e.evalue, 'pointer 0x10 is bad');
  });

  it('reports type errors as CompileError', () => {
    const e = errorFromStderr("1:5 - Type 'string' is not assignable to type 'number'.\n");
    assert.deepEqual([e.ename, e.evalue], ['CompileError', "1:5 - Type 'string' is not assignable to type 'number'."]);
  });

  it('falls back to the last line for a thrown non-error', () => {
    assert.deepEqual([errorFromStderr('a string\n').ename, errorFromStderr('a string\n').evalue], ['Error', 'a string']);
  });
});
