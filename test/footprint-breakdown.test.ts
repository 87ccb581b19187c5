/**
 * `npm run footprint` (scripts/footprint-breakdown.ts) on small traces: the rows sum to the tiers' peak
 * (the script throws otherwise), and the resident bytes split into that peak, the bytes given back
 * before it and the bytes first written after it; where the coalescing tier ends at 256 KiB a freed
 * large block's pages show up there, where it ends at 8 MiB (`compact`, `current`) they serve the
 * blocks after it. Each tier's live blocks are also set against glibc's chunks for them. Also the
 * command line: the resident line, the line against glibc's chunks and the floor of pages of one class
 * each in the text, and a bad preset refused.
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

  it("sets each tier against glibc's chunks for its live blocks: the request and 8 bytes rounded up to 16, at least 32", async () => {
    const b = new TraceBuilder();
    // Tiny requests (glibc's chunks 32, 32, 48, 1008), one mid (3008) and one of 300,000 bytes (300,016).
    [1, 24, 25, 1000, 3000, 300_000].forEach((size, id) => assert.equal(b.add(OP_MALLOC, id + 1, size, 0, 0), null));
    const file = path.join(scratch, 'glibc-chunks.hktrace');
    await writeTrace(b.finish(), file);
    const byTier = (rows: { tier: string; glibcChunks: number }[]) => {
      const sums: Record<string, number> = {};
      for (const r of rows) sums[r.tier] = (sums[r.tier] ?? 0) + r.glibcChunks;
      return sums;
    };
    const all = 1120 + 3008 + 300_016;
    const SLABS = { tinySlabAfterBytes: 0 }; // each tiny class on a slab from its first block
    const current = await footprintBreakdown(file, 'current', SLABS);
    assert.deepEqual(byTier(current.rows), { tiny: 1120, mid: 3008 + 300_016, large: 0, 'empty slabs': 0 });
    assert.equal(current.totals.glibcChunks, all);
    const large = await footprintBreakdown(file, 'current', { ...LARGE_FROM_256K, ...SLABS });
    assert.deepEqual(byTier(large.rows), { tiny: 1120, mid: 3008, large: 300_016, 'empty slabs': 0 });
    // current's own: a class's first blocks live inside coalescing blocks, so its tiny blocks count there.
    const inTier = await footprintBreakdown(file, 'current');
    assert.deepEqual(byTier(inTier.rows), { mid: all, large: 0, 'empty slabs': 0 });
    const text = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/footprint-breakdown.ts', file], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, HAKMEM_TINY_SLAB_AFTER_BYTES: '0' },
    });
    assert.equal(text.status, 0, text.stderr);
    const touched = (tier: string) => current.rows.filter((r) => r.tier === tier).reduce((sum, r) => sum + r.touched, 0);
    const against = (tier: string, bytes: number, glibc: number) =>
      `${tier} +${((bytes - glibc) / KiB).toFixed(0)} KiB (${(bytes / KiB).toFixed(0)} against ${(glibc / KiB).toFixed(0)})`;
    const line = `above glibc's chunks for the same live blocks: ${against('tiny', touched('tiny'), 1120)}, ` +
      `${against('mid', touched('mid'), 3008 + 300_016)}, ${against('all', current.totals.touched, all)}`;
    assert.ok(text.stdout.split('\n').includes(line), `${line}\nnot in\n${text.stdout}`);
  });

  it('prints the resident line, and refuses an unknown preset with exit code 2', async () => {
    const file = await bigThenSmall('cli', 100);
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'scripts/footprint-breakdown.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
    const ok = run(file, '--preset', 'compact');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^resident \d+ KiB \(utilization [01]\.\d{3}\): the peak's \d+ KiB, 0 KiB written before and given back by a tier, 0 KiB first written after the peak$/m);
    // No tiny block: the floor is the live blocks' own bytes, at their most 4000 and 1 MiB after op 2.
    assert.match(ok.stdout, /^pages of one class each hold at least 1028 KiB with these classes \(at op 2\), 1028 KiB if no page changes class \(at op 2\), 1028 KiB with the best classes at each op \(at op 2\)$/m);
    const bad = run(file, '--preset', 'phase9');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown preset 'phase9'/);
  });
});
