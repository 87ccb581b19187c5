/**
 * collectGarbage (lib/bench/measures/collect-garbage.ts), run by the replays before their timed
 * passes: on Node it must really collect, so an object nothing references is gone after it.
 */
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import { collectGarbage } from '../lib/bench/measures/collect-garbage';

test('collectGarbage collects an object nothing references any more', async () => {
  let target: object | null = { payload: new Array(1000).fill(1) };
  const ref = new WeakRef(target);
  target = null;
  // A WeakRef's target lives to the end of the job that made or read it.
  await nextTurn();
  collectGarbage();
  assert.equal(ref.deref(), undefined);
});

test('collectGarbage keeps what is still referenced', async () => {
  const kept = { payload: 42 };
  const ref = new WeakRef(kept);
  await nextTurn();
  collectGarbage();
  assert.equal(ref.deref(), kept);
});
