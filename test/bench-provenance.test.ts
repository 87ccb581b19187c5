import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkoutMismatch, collectProvenance, currentCheckout, machineOf } from '../lib/bench/matrix/provenance';

describe('provenance', () => {
  it('records code, machine, runtime, configuration, command and date', () => {
    const p = collectProvenance({
      presets: [
        { label: 'current', preset: 'current', align: 1 },
        { label: 'phase7', preset: 'phase7', align: 1 },
        { label: 'current:align16', preset: 'current', align: 16 },
      ],
      build: 'release',
      argv: [process.execPath, `${__dirname}/../scripts/matrix.ts`, '--profile', 'quick'],
    });
    for (const key of ['commit', 'dirty', 'dirtyDigest', 'date', 'node', 'v8', 'cpuModel', 'cpuCount', 'os', 'loadAverage', 'build', 'presets', 'env', 'command']) {
      assert.ok(key in p, key);
    }
    assert.equal(p.node, process.version);
    assert.equal(p.v8, process.versions.v8);
    assert.ok(p.cpuCount >= 1 && p.cpuModel.length > 0);
    assert.equal(p.loadAverage.length, 3);
    assert.ok(!Number.isNaN(Date.parse(p.date)));
    assert.equal(p.build, 'release');
    assert.deepEqual(Object.keys(p.presets), ['current', 'phase7', 'current:align16']);
    for (const h of Object.values(p.presets)) assert.match(h, /^[0-9a-f]{8}$/);
    assert.notEqual(p.presets.current, p.presets.phase7);
    assert.notEqual(p.presets.current, p.presets['current:align16'], 'the alignment changes the configuration hash');
    // Paths are project-relative: a record names no machine's folders.
    assert.deepEqual(p.command, ['node', 'scripts/matrix.ts', '--profile', 'quick']);
    assert.match(machineOf(p), /x\d+, .* node v/);
  });

  it('reads the checkout: a commit, and a digest exactly when dirty', () => {
    const c = currentCheckout();
    if (c.commit === null) return; // not a git checkout: nothing to read
    assert.match(c.commit, /^[0-9a-f]{40}$/);
    assert.equal(c.dirty, c.dirtyDigest !== null);
  });

  it('marks results of other code than the checkout', () => {
    const here = { commit: 'a'.repeat(40), dirty: false, dirtyDigest: null };
    assert.equal(checkoutMismatch(here, here), null);
    assert.match(checkoutMismatch({ ...here, commit: 'b'.repeat(40) }, here) ?? '', /measured at bbbbbbbbbb; the checkout is aaaaaaaaaa/);
    const dirtyA = { ...here, dirty: true, dirtyDigest: '1111' };
    assert.match(checkoutMismatch(dirtyA, here) ?? '', /with uncommitted changes 1111/);
    assert.notEqual(checkoutMismatch(dirtyA, { ...dirtyA, dirtyDigest: '2222' }), null);
  });
});
