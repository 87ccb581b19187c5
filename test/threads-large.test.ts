/**
 * Every tier of `current` (and `compact`) under threads, the large one included:
 * test/threads-stress.test.ts keeps its blocks under 1 MiB, which their coalescing tier (to 8 MiB)
 * serves. Here two workers on one shared heap draw a fifth of their blocks at 7 to 9 MiB and a fifth
 * above 8 MiB, through malloc, calloc, alignedAlloc and realloc (across 8 MiB both ways), and hand
 * half of the blocks they let go to the other worker, which frees or reallocates them; each detaches
 * and attaches again mid-run. See test/fixtures/threads-large-worker.ts for what each worker checks
 * on every block.
 *
 * Checked here: both workers end without an error, with large blocks, crossings, callocs, aligned
 * blocks and blocks handed both ways; the large tier's frees are counted; check() passes once both
 * have detached, and after trim() the heap holds nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHeap, type BuildMode, type PresetName } from '../lib';
import { INBOX_WORDS, type LargeCounts, type LargeJob } from './fixtures/threads-large-shared';
import { fixture, runWorker } from './fixtures/threads-spawn';

const MiB = 1024 * 1024;
const OPS = Number(process.env.HAKMEM_LARGE_OPS ?? 1500);
const WORKER = fixture('threads-large-worker.ts');

async function run(seed: number, preset: PresetName, build: BuildMode, ops: number): Promise<void> {
  const heap = createHeap({ shared: true, bytes: 256 * MiB, preset, build });
  const inboxes = new SharedArrayBuffer(2 * INBOX_WORDS * 4);
  const done = new SharedArrayBuffer(4);
  const outcomes = await Promise.all(
    [0, 1].map((me) => runWorker<LargeCounts>(WORKER, { handle: heap.handle(), me, seed, ops, inboxes, done } satisfies LargeJob)),
  );
  const name = `seed ${seed}, ${preset}/${build}`;
  for (const [me, o] of outcomes.entries()) {
    assert.equal(o.error, null, `${name}, worker ${me}: ${o.error?.stack}`);
    assert.equal(o.exitCode, 0, `${name}, worker ${me}`);
    const c = o.messages[0];
    assert.equal(c.ops, ops, `${name}, worker ${me} ran every op`);
    for (const k of ['large', 'crossings', 'callocs', 'aligned', 'sent', 'received'] as const) {
      assert.ok(c[k] > 0, `${name}, worker ${me}: ${k} ${c[k]}`);
    }
  }
  assert.ok(heap.stats().routes.large > 0, `${name}: large frees ${heap.stats().routes.large}`);
  heap.check();
  heap.trim();
  assert.equal(heap.stats().heapBytes, 0, `${name}: bytes left after trim()`);
}

describe("every tier on two threads, large blocks included", () => {
  it('release: blocks intact through reallocs across 8 MiB, remote frees and a detach; nothing left after trim()', { timeout: 120_000 }, async () => {
    for (const seed of [1, 2, 3]) await run(seed, 'current', 'release', OPS);
  });

  it('debug build (every op validated)', { timeout: 120_000 }, async () => {
    await run(4, 'current', 'debug', OPS >> 1);
  });

  it('compact (the coalescing tier from 16 bytes, behind its per-thread cache), same checks', { timeout: 120_000 }, async () => {
    await run(5, 'compact', 'release', OPS);
  });
});
