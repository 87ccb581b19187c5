/**
 * A new SuperSlab and the pool's lock-free claim (lib/alloc/shared-pool.ts claimUnused): a thread takes
 * a never-used slot without the pool lock once the SuperSlab's LIVE word and cursor say there is one,
 * so by then the SuperSlab must be in the registry (free finds an aligned block's carrier through it),
 * and it must not go back to the arena for want of a registry slot.
 *
 * One process, two threads of one shared heap: the creating thread is stopped at its registry call
 * (the module export createSuperSlab calls), where the other thread runs. The other thread can only
 * run lock-free there (the pool lock is held), so it runs only when a lock-free claim would succeed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attachHeap, createHeap, type Heap } from '../lib';
import type { HeapMemory } from '../lib/alloc/heap-memory';
import { PAGE_SHIFT, S } from '../lib/alloc/layout';
import * as registry from '../lib/alloc/registry';
import { ssWord } from '../lib/alloc/superslab';

const MiB = 1 << 20;
type Register = typeof registry.registerSuperSlab;
const exported = registry as { registerSuperSlab: Register };

/** What claimUnused tests before it claims: the other thread would take a slot of `ss` without the lock. */
function claimable(m: HeapMemory, ss: number): boolean {
  const w = ssWord(m, ss);
  return Atomics.load(m.i32, w + S.LIVE) === 1 && Atomics.load(m.i32, w + S.CURSOR) < m.layout.pagesPerSS;
}

/**
 * Runs `creator.malloc(200)` (its first: a new SuperSlab), stopping it at the registry call, where
 * `step` runs for the other thread if that thread could take a slot of the SuperSlab without the pool
 * lock; `registered` stands for the registry's answer. Returns whether `step` ran, and the block.
 * Throws if the registry call was not reached (the scenario would test nothing).
 */
function createWithOtherThread(creator: Heap, step: () => void, registered: Register): { ran: boolean; p: number } {
  const original = exported.registerSuperSlab;
  let ran = false;
  let reached = false;
  exported.registerSuperSlab = (m, ss) => {
    exported.registerSuperSlab = original;
    reached = true;
    if (claimable(m, ss)) {
      ran = true;
      step();
    }
    return registered(m, ss);
  };
  try {
    const p = creator.malloc(200);
    assert.ok(reached, 'createSuperSlab did not call the registry through its module export');
    return { ran, p };
  } finally {
    exported.registerSuperSlab = original;
  }
}

describe('shared pool: a new SuperSlab', () => {
  it('no thread takes one of its slots before it is registered', () => {
    const heap = createHeap({ tinySlabAfterBytes: 0, shared: true, bytes: 16 * MiB, superslabBytes: MiB });
    const creator = attachHeap(heap.handle());
    const other = attachHeap(heap.handle());
    let failed = '';
    const { ran } = createWithOtherThread(creator, () => {
      const p = other.alignedAlloc(64, 100); // its carrier in a slab claimed from the new SuperSlab
      try {
        other.free(p);
      } catch (e) {
        failed = (e as Error).message;
      }
    }, registry.registerSuperSlab);
    assert.equal(ran, false, `the other thread took a slot of the SuperSlab before it was registered${failed ? `, then free failed: ${failed}` : ''}`);
    creator.detach();
    other.detach();
    heap.check();
  });

  it('no thread holds one of its slots when the registry has no room for it and its pages go back', () => {
    const heap = createHeap({ tinySlabAfterBytes: 0, shared: true, bytes: 16 * MiB, superslabBytes: MiB });
    const creator = attachHeap(heap.handle());
    const other = attachHeap(heap.handle());
    let held = 0;
    // The creator, out of memory, trims and tries again: the same pages, a SuperSlab registered this time.
    const { ran, p } = createWithOtherThread(creator, () => (held = other.malloc(100)), () => false);
    const note = held !== 0 && (held - 1) >>> PAGE_SHIFT === (p - 1) >>> PAGE_SHIFT ? ': the creator got the slab the other thread is carving from' : '';
    assert.equal(ran, false, `the other thread took a slot of the SuperSlab, then its pages went back to the arena${note}`);
    creator.free(p);
    creator.detach();
    other.detach();
    heap.check();
  });
});
