/**
 * The heap's locks (lib/alloc/sync.ts): mutual exclusion between workers, and the lock word's states:
 * 0 free, 1 held, 2 held with a sleeper, so that only an unlock that finds 2 calls Atomics.notify.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHeap } from '../lib';
import { H } from '../lib/alloc/layout';
import { lock, LOCKED, LOCKED_WAITERS, unlock, UNLOCKED } from '../lib/alloc/sync';
import { fixture, runWorker } from './fixtures/threads-spawn';

describe('heap locks', () => {
  it('an uncontended lock leaves 1 in the word and its unlock 0 (no sleeper recorded, nothing to wake)', () => {
    const heap = createHeap({ shared: true, bytes: 16 << 20 });
    lock(heap.mem, H.POOL_LOCK);
    assert.equal(Atomics.load(heap.i32, H.POOL_LOCK), LOCKED);
    unlock(heap.mem, H.POOL_LOCK);
    assert.equal(Atomics.load(heap.i32, H.POOL_LOCK), UNLOCKED);
    heap.detach();
  });

  it('a thread that waits marks the word 2 and is woken by the unlock', async () => {
    const heap = createHeap({ shared: true, bytes: 16 << 20 });
    const counter = new SharedArrayBuffer(64);
    lock(heap.mem, H.POOL_LOCK); // held by this thread: the worker spins, then sleeps
    const done = runWorker<{ type: string; contended: number }>(fixture('threads-lock-worker.ts'), { handle: heap.handle(), counter, rounds: 1 });
    const until = Date.now() + 20_000;
    while (Atomics.load(heap.i32, H.POOL_LOCK) !== LOCKED_WAITERS && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    assert.equal(Atomics.load(heap.i32, H.POOL_LOCK), LOCKED_WAITERS, 'the waiting worker recorded itself');
    unlock(heap.mem, H.POOL_LOCK);
    const o = await done;
    assert.equal(o.exitCode, 0, String(o.error));
    assert.equal(new Int32Array(counter)[0], 1);
    assert.equal(Atomics.load(heap.i32, H.POOL_LOCK), UNLOCKED);
    heap.detach();
  });

  it('lets one worker in at a time: no increment made under the lock is lost', async () => {
    const heap = createHeap({ shared: true, bytes: 16 << 20 });
    const counter = new SharedArrayBuffer(64);
    const rounds = 200_000;
    const workers = 3;
    const outcomes = await Promise.all(
      Array.from({ length: workers }, () => runWorker<{ type: string; contended: number }>(fixture('threads-lock-worker.ts'), { handle: heap.handle(), counter, rounds })),
    );
    for (const o of outcomes) assert.equal(o.exitCode, 0, String(o.error));
    assert.equal(new Int32Array(counter)[0], rounds * workers);
    assert.equal(Atomics.load(heap.i32, H.POOL_LOCK), UNLOCKED);
    heap.check();
    heap.detach();
  });
});
