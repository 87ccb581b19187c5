/**
 * `npm run footprint` (scripts/footprint-breakdown.ts) on small traces: the rows sum to the tiers' peak
 * (the script throws otherwise), and the resident bytes split into that peak, the bytes given back
 * before it and the bytes first written after it; where the coalescing tier ends at 256 KiB a freed
 * large block's pages show up there, where it ends at 8 MiB (`compact`, `current`) they serve the
 * blocks after it. Also the command line: the resident line in the text, and a bad preset refused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { TraceBuilder } from '../lib/trace/trace-builder';
import { OP_FREE, OP_MALLOC } from '../lib/trace/trace';
import { writeTrace } from '../lib/trace/write';
import { footprintBreakdown } from '../scripts/footprint-breakdown';
import { COALESCING_MAX_REQUEST } from '../lib';

const KiB = 1024;
const MiB = 1024 * KiB;
const ROOT = path.join(__dirname, '..');
const scratch = mkdtempSync(path.join(os.tmpdir(), 'hakmem-footprint-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A block of 4000 bytes kept, 1 MiB written and freed, then `blocks` blocks of 2000 bytes. */
async function bigThenSmall(name: string, blocks: number): Promise<string> {
  const b = new TraceBuilder();
  const add = (kind: number, id: number, size: number) => assert.equal(b.add(kind, id, size, 0, 0), null);
  add(OP_MALLOC, 1, 4000);
  add(OP_MALLOC, 2, MiB);
  add(OP_FREE, 2, 0);
  for (let i = 0; i < blocks; i++) add(OP_MALLOC, 10 + i, 2000);
  const file = path.join(scratch, `${name}.hktrace`);
  await writeTrace(b.finish(), file);
  return file;
}

/** `current` with its coalescing tier ending at 256 KiB: a 1 MiB block is the large tier's. */
const LARGE_FROM_256K = { coalescingMaxRequest: COALESCING_MAX_REQUEST };

describe('npm run footprint', () => {
  it('splits resident bytes: after a peak the big block makes, the large tier writes new pages and an 8 MiB coalescing tier none', async () => {
    const file = await bigThenSmall('after-peak', 400); // 800 KB of small blocks: the peak is the 1 MiB block's
    const large = await footprintBreakdown(file, 'current', LARGE_FROM_256K);
    assert.equal(large.peakOp, 2, 'the peak is the big block');
    assert.equal(large.residentBytes, large.peakHeapBytes + large.givenBackAtPeak + large.writtenAfterPeak);
    assert.ok(large.writtenAfterPeak >= 700 * KiB, `${large.writtenAfterPeak} bytes written after the peak`);
    for (const preset of ['compact', 'current'] as const) {
      const one = await footprintBreakdown(file, preset);
      assert.equal(one.writtenAfterPeak, 0, `${preset} reused the freed block`);
      assert.equal(one.residentBytes, one.peakHeapBytes);
    }
  });

  it('splits resident bytes: at a peak after the big block, the large tier holds its pages given back and an 8 MiB coalescing tier none', async () => {
    const file = await bigThenSmall('given-back', 700); // 1.4 MB of small blocks: the peak is at the end
    const large = await footprintBreakdown(file, 'current', LARGE_FROM_256K);
    assert.ok(large.peakOp > 3, `the peak (op ${large.peakOp}) is after the big block's free`);
    assert.ok(large.givenBackAtPeak >= 512 * KiB, `${large.givenBackAtPeak} bytes given back at the peak`);
    assert.equal(large.residentBytes, large.peakHeapBytes + large.givenBackAtPeak + large.writtenAfterPeak);
    for (const preset of ['compact', 'current'] as const) {
      const one = await footprintBreakdown(file, preset);
      assert.equal(one.givenBackAtPeak, 0, preset);
      assert.equal(one.residentBytes, one.peakHeapBytes, preset);
      assert.equal(one.totals.touched, one.peakHeapBytes, `${preset}: the rows sum to the peak`);
    }
  });

  it('prints the resident line, and refuses an unknown preset with exit code 2', async () => {
    const file = await bigThenSmall('cli', 100);
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/footprint-breakdown.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
    const ok = run(file, '--preset', 'compact');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^resident \d+ KiB \(utilization [01]\.\d{3}\): the peak's \d+ KiB, 0 KiB written before and given back by a tier, 0 KiB first written after the peak$/m);
    const bad = run(file, '--preset', 'phase9');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown preset 'phase9'/);
  });
});
