/**
 * The bundled traces' definitions against data/traces: every definition has its trace and a manifest
 * entry that says what it read (a shipped input exists), the manifest's counts are the trace's, and
 * the generated sed input is the same text for the same seed.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { BUNDLED_TRACES, readManifest } from '../lib/trace/bundle';
import { generatedText } from '../lib/trace/generated-text';
import { readTrace } from '../lib/trace/read';
import { traceStats } from '../lib/trace/stats';

const ROOT = path.resolve(__dirname, '..');

describe('bundled traces', () => {
  const manifest = readManifest();

  test('one manifest entry and file per definition, in the same order, each saying what it read', () => {
    assert.deepEqual(
      manifest.map((t) => t.name),
      BUNDLED_TRACES.map((b) => b.name),
    );
    for (const entry of manifest) {
      assert.ok(existsSync(entry.path), entry.path);
      assert.ok(entry.input.length > 0, `${entry.name} has no input`);
      const shipped = /^data\/traces\/inputs\/\S+$/.exec(entry.input);
      if (shipped) assert.ok(existsSync(path.join(ROOT, entry.input)), `${entry.name}: ${entry.input} is missing`);
      if (entry.command.some((word) => word.startsWith('data/traces/inputs/'))) assert.ok(shipped, `${entry.name} reads a shipped file`);
    }
  });

  test("the manifest's counts are those of the trace files (the three shortest: reading all takes seconds)", async () => {
    for (const entry of [...manifest].sort((a, b) => a.ops - b.ops).slice(0, 3)) {
      const s = traceStats(await readTrace(entry.path));
      assert.equal(s.ops, entry.ops, entry.name);
      assert.deepEqual(s.counts, entry.counts, entry.name);
      assert.equal(s.peakLiveBytes, entry.peakLiveBytes, entry.name);
    }
  });
});

describe('generated text', () => {
  test('the same seed gives the same lines; another seed other lines', () => {
    const text = generatedText(200, 42);
    assert.equal(text, generatedText(200, 42));
    assert.notEqual(text, generatedText(200, 43));
    const lines = text.split('\n');
    assert.equal(lines.pop(), '', 'ends in a newline');
    assert.equal(lines.length, 200);
    for (const line of lines) {
      const words = line.split(' ');
      assert.ok(words.length >= 3 && words.length <= 12, line);
      assert.ok(words.every((w) => /^[a-z]+(-\d{1,3})?$/.test(w)), line);
    }
    assert.ok(/-\d/.test(text) && / [a-z]+ /.test(text), 'tagged and plain words both occur');
  });
});
