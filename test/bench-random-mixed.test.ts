import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BenchAllocator } from '../lib/bench/adapters/allocator-adapter';
import { HakmemAllocator } from '../lib/bench/adapters/hakmem';
import { ThingAllocator, thingPoolBytes } from '../lib/bench/adapters/thing';
import { V8Allocator } from '../lib/bench/adapters/v8';
import { benchRandomMixed, randomMixedLoop } from '../lib/bench/workloads/random-mixed';
import { Xorshift32, xorshift32Next, xorshift32Seed } from '../lib/bench/workloads/rng';
import { checkedRandomMixedReplay, replayRandomMixed } from '../lib/bench/workloads/random-mixed-replay';
import { createHeap } from '../lib/index';

describe('xorshift32', () => {
  it('follows x ^= x << 13; x ^= x >>> 17; x ^= x << 5 on 32 bits, drawing the top 31 bits', () => {
    // From seed 1: 1 ^ (1 << 13) = 8193; 8193 >>> 17 = 0; 8193 ^ (8193 << 5) = 270369.
    assert.equal(xorshift32Next(1) >>> 0, 270369);
    const g = new Xorshift32(1);
    assert.equal(g.draw(), 270369 >>> 1);
    for (let i = 0; i < 1000; i++) assert.ok(g.draw() < 2 ** 31);
  });

  it('treats seed 0 as 1 and keeps only the low 32 bits of a seed', () => {
    assert.equal(xorshift32Seed(0), 1);
    assert.equal(xorshift32Seed(2 ** 32 + 5), 5);
    const a = new Xorshift32(0);
    const b = new Xorshift32(1);
    for (let i = 0; i < 10; i++) assert.equal(a.draw(), b.draw());
  });
});

const adapters: Array<[string, () => BenchAllocator<unknown>]> = [
  ['v8', () => new V8Allocator()],
  ['thing', () => new ThingAllocator(thingPoolBytes(400, 1024))],
  ['hakmem', () => new HakmemAllocator(createHeap({ preset: 'current' }))],
  ['hakmem phase6-2', () => new HakmemAllocator(createHeap({ preset: 'phase6-2' }))],
];

describe('random-mixed loop', () => {
  for (const [name, make] of adapters) {
    for (const [min, max] of [
      [16, 1024],
      [128, 128],
    ]) {
      it(`${name}, sizes ${min}..${max}: its fingerprint is the workload's`, () => {
        const cycles = 150_000; // several chunks of the loop, and a partial one
        const r = benchRandomMixed(make(), cycles, 400, 1, min, max);
        assert.deepEqual(r.fingerprint, replayRandomMixed(cycles, 400, 1, min, max).fingerprint);
        assert.equal(r.ops, cycles);
        assert.ok(r.seconds > 0);
      });
    }
  }

  it('writes the first and last byte of every new block', () => {
    const writes: Array<[number, number, number]> = [];
    let next = 1;
    const recorder: BenchAllocator<number> = {
      name: 'recorder',
      empty: 0,
      target: { malloc: () => next++, free: () => {} },
      touch: (p, size, value) => writes.push([p, size, value]),
      newSlots: (n) => new Int32Array(n),
    };
    const r = randomMixedLoop(recorder, 1000, 16, 7, 1, 9);
    assert.equal(writes.length, r.fingerprint.mallocs);
    assert.ok(writes.every(([, size]) => size >= 1 && size <= 9));
    assert.equal(writes.reduce((n, [, size]) => n + size, 0), r.fingerprint.bytes);
    assert.deepEqual(writes[0], [1, writes[0][1], 0]); // the first cycle mallocs (every slot is empty): value 0 & 255
  });

  it('throws a clear error when the allocator runs out of memory', () => {
    const tiny = new ThingAllocator(64 * 1024);
    assert.throws(() => randomMixedLoop(tiny, 100_000, 400, 1, 1024, 1024), /thing: out of memory at cycle \d+ allocating 1024 bytes/);
  });
});

describe('checkedRandomMixedReplay', () => {
  it("returns the loop's replay for a run that did its work, and names the run that did not", () => {
    const r = benchRandomMixed(new HakmemAllocator(createHeap({ preset: 'current' })), 5000, 64, 3, 16, 512);
    const replay = checkedRandomMixedReplay(5000, 64, 3, 16, 512, r.fingerprint, 'hakmem');
    assert.deepEqual(replay, replayRandomMixed(5000, 64, 3, 16, 512));
    for (const wrong of [{ ...r.fingerprint, hash: (r.fingerprint.hash + 1) >>> 0 }, { ...r.fingerprint, bytes: r.fingerprint.bytes - 1 }]) {
      assert.throws(
        () => checkedRandomMixedReplay(5000, 64, 3, 16, 512, wrong, "hakmem's run of 5000 cycles"),
        /^Error: hakmem's run of 5000 cycles: the run's fingerprint \{.*\} differs from the workload's \{.*\}: the harness did not do the specified work$/,
      );
    }
    assert.throws(() => checkedRandomMixedReplay(5000, 64, 4, 16, 512, r.fingerprint, 'hakmem'), /differs from the workload's/, 'another seed');
  });
});
