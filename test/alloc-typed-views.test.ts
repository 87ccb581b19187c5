/**
 * Typed views (heap.allocArray, callocArray, reallocArray, freeArray, view): every typed-array type on
 * every preset and at every heap alignment gets an element-aligned view over the heap's buffer that
 * round-trips its values; views survive other allocations (a shadow model checks overlap and contents);
 * bad input is refused with a message naming the value; a Float64Array passes between two workers on a
 * shared heap and the receiver frees it (a remote free).
 */
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { describe, it } from 'node:test';
import { createHeap, HeapError, PRESET_NAMES, type HeapOptions, type TypedArray, type TypedArrayConstructor } from '../lib';
import { Xorshift32 } from '../lib/bench/workloads/rng';
import { fixture, messageOf, runWorker, type WorkerOutcome } from './fixtures/threads-spawn';
import type { ViewsWorkerJob, ViewsWorkerMessage } from './fixtures/threads-views-worker';

const MiB = 1 << 20;
const TYPES: TypedArrayConstructor[] = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array,
];
/** Heaps at every alignment: every preset (align 1, or 16 for aligned) and the header-free front end at align 8. */
const HEAPS: HeapOptions[] = [...PRESET_NAMES.map((preset) => ({ preset })), { preset: 'aligned', align: 8 }];
const label = (o: HeapOptions) => `${o.preset}${o.align ? ` align ${o.align}` : ''}`;

/** A value of element i that fits every type (the BigInt types take a BigInt). */
function valueOf(Ctor: TypedArrayConstructor, i: number, seed: number): number | bigint {
  const v = (i * 7 + seed) % 100;
  return Ctor === BigInt64Array || Ctor === BigUint64Array ? BigInt(v) * 1_000_000_007n : v;
}

function fillView(v: TypedArray, seed: number): void {
  const Ctor = v.constructor as TypedArrayConstructor;
  for (let i = 0; i < v.length; i++) v[i] = valueOf(Ctor, i, seed) as never;
}

function assertValues(v: TypedArray, seed: number, n = v.length, what = 'view'): void {
  const Ctor = v.constructor as TypedArrayConstructor;
  for (let i = 0; i < n; i++) if (v[i] !== valueOf(Ctor, i, seed)) assert.fail(`${what}: element ${i} is ${v[i]}, expected ${valueOf(Ctor, i, seed)}`);
}

function throwsHeapError(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof HeapError, `threw ${String(e)}, not a HeapError`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

for (const options of HEAPS) {
  for (const build of ['release', 'debug'] as const) {
    describe(`typed views, ${label(options)} / ${build}`, () => {
      it('every type: element-aligned view over the heap buffer, values round-trip; callocArray zeroes; reallocArray keeps; freeArray frees', () => {
        const heap = createHeap({ bytes: 16 * MiB, build, ...options });
        for (const Ctor of TYPES) {
          for (const n of [0, 1, 3, 100, 1000, 20_000]) {
            const v = heap.allocArray(Ctor, n)!;
            assert.ok(v instanceof Ctor, `${Ctor.name}`);
            assert.equal(v.buffer, heap.buffer);
            assert.equal(v.length, n);
            assert.equal(v.byteOffset % Ctor.BYTES_PER_ELEMENT, 0, `${Ctor.name}[${n}] at ${v.byteOffset} is not element-aligned`);
            assert.equal(v.byteOffset % heap.config.align, 0);
            assert.ok(heap.usableSize(v.byteOffset) >= v.byteLength);
            fillView(v, n);
            assertValues(v, n);
            // A new view of the same block reads the same values.
            assertValues(heap.view(v.byteOffset, Ctor, n), n, n, `view(${v.byteOffset})`);
            const grown = heap.reallocArray(v, n * 3 + 5)!;
            assert.equal(grown.length, n * 3 + 5);
            assertValues(grown, n, n, `reallocArray(${Ctor.name}[${n}])`);
            const shrunk = heap.reallocArray(grown, n >> 1)!;
            assertValues(shrunk, n, n >> 1, `reallocArray shrink`);
            heap.freeArray(shrunk);
            const z = heap.callocArray(Ctor, n)!;
            for (let i = 0; i < n; i++) assert.ok(z[i] == 0, `callocArray(${Ctor.name}, ${n})[${i}] = ${z[i]}`);
            heap.freeArray(z);
          }
        }
        heap.check();
      });

      it('reallocArray to under half shrinks a byte array as realloc does (reallocShrinks); a wider array keeps its aligned block', () => {
        const heap = createHeap({ bytes: 16 * MiB, build, ...options });
        for (const Ctor of [Uint8Array, Float64Array] as TypedArrayConstructor[]) {
          const v = heap.allocArray(Ctor, 1000)!;
          fillView(v, 1000);
          const usable = heap.usableSize(v.byteOffset);
          const shrunk = heap.reallocArray(v, 40)!;
          assertValues(shrunk, 1000, 40, `reallocArray(${Ctor.name}[1000], 40)`);
          const shrinks = heap.config.reallocShrinks && Ctor === Uint8Array;
          assert.equal(heap.usableSize(shrunk.byteOffset) < usable, shrinks, `${Ctor.name}: usable ${usable} -> ${heap.usableSize(shrunk.byteOffset)}`);
          heap.freeArray(shrunk);
        }
        heap.check();
      });

      it('views survive other allocations: no overlap, contents kept (shadow model)', () => {
        const heap = createHeap({ bytes: 16 * MiB, build, ...options });
        const rng = new Xorshift32(0x5eed + build.length);
        const r = () => rng.draw();
        const live: { v: TypedArray | null; ptr: number; size: number; seed: number }[] = [];
        for (let op = 0; op < 4000; op++) {
          if (live.length < 200 && r() % 3 !== 0) {
            const seed = r() & 0xffff;
            if (r() % 2 === 0) {
              const Ctor = TYPES[r() % TYPES.length];
              const n = r() % 5 === 0 ? r() % 9000 : r() % 200;
              const v = heap.allocArray(Ctor, n)!;
              fillView(v, seed);
              live.push({ v, ptr: v.byteOffset, size: v.byteLength, seed });
            } else {
              const size = r() % 3000;
              const p = heap.malloc(size);
              heap.u8.fill(seed & 255, p, p + size);
              live.push({ v: null, ptr: p, size, seed });
            }
          } else if (live.length > 0) {
            const x = live.splice(r() % live.length, 1)[0];
            if (x.v) {
              assertValues(x.v, x.seed, x.v.length, `op ${op}: ${x.v.constructor.name} at ${x.ptr}`);
              heap.freeArray(x.v);
            } else {
              assert.ok(heap.u8.subarray(x.ptr, x.ptr + x.size).every((b) => b === (x.seed & 255)), `op ${op}: block ${x.ptr} overwritten`);
              heap.free(x.ptr);
            }
          }
          if (op % 500 === 0) {
            const spans = live.map((x) => [x.ptr, x.ptr + Math.max(1, x.size)]).sort((a, b) => a[0] - b[0]);
            for (let i = 1; i < spans.length; i++) assert.ok(spans[i - 1][1] <= spans[i][0], `op ${op}: [${spans[i - 1]}) overlaps [${spans[i]})`);
            heap.check();
          }
        }
        for (const x of live) {
          if (x.v) assertValues(x.v, x.seed);
          if (x.v) heap.freeArray(x.v);
          else heap.free(x.ptr);
        }
        heap.check();
      });

      it('freeArray refuses a view of another buffer, a sub-view, a view past its block; twice is a double free', () => {
        const heap = createHeap({ bytes: 8 * MiB, build, ...options });
        const v = heap.allocArray(Float64Array, 100)!;
        throwsHeapError(() => heap.freeArray(new Float64Array(100)), 'INVALID_POINTER', /freeArray\(Float64Array\[100\] at byteOffset 0\): a view of another buffer, not of this heap/);
        const other = createHeap({ bytes: 8 * MiB, ...options }).allocArray(Float64Array, 100)!;
        throwsHeapError(() => heap.freeArray(other), 'INVALID_POINTER', /a view of another buffer/);
        throwsHeapError(() => heap.freeArray(v.subarray(3)), 'INVALID_POINTER', new RegExp(`freeArray\\(Float64Array\\[97\\] at byteOffset ${v.byteOffset + 24}\\): does not start a block of this heap \\(a sub-view\\?\\)`));
        throwsHeapError(() => heap.freeArray(new Float64Array(heap.buffer, v.byteOffset, heap.usableSize(v.byteOffset) / 8 + 1)), 'INVALID_POINTER', /bytes run past the block at ptr \d+ .*\(usable size \d+\)/);
        throwsHeapError(() => heap.freeArray(new Uint8Array(heap.buffer)), 'INVALID_POINTER', /Uint8Array\[\d+\] at byteOffset 0\): does not start a block/);
        throwsHeapError(() => heap.freeArray(new DataView(heap.buffer, v.byteOffset) as never), 'INVALID_TYPE', /not a typed array/);
        heap.freeArray(v);
        throwsHeapError(() => heap.freeArray(v), 'DOUBLE_FREE', new RegExp(`free\\(ptr ${v.byteOffset} .*(already freed|not live)`));
        throwsHeapError(() => heap.reallocArray(v, 10), 'INVALID_POINTER', /use after free/);
        heap.check();
      });
    });
  }
}

describe('typed views: bad input', () => {
  const heap = createHeap({ bytes: 4 * MiB });
  it('allocArray with something that is not a typed-array constructor: INVALID_TYPE naming it', () => {
    for (const [bad, name] of [[Map, 'Map'], [Array, 'Array'], [DataView, 'DataView'], [ArrayBuffer, 'ArrayBuffer'], ['Float64Array', '"Float64Array"'], [null, 'null']] as const) {
      throwsHeapError(() => heap.allocArray(bad as never, 4), 'INVALID_TYPE', new RegExp(`allocArray\\(${name}, 4\\): ${name} is not a typed-array constructor`));
    }
    throwsHeapError(() => heap.view(heap.malloc(64), Object as never, 1), 'INVALID_TYPE', /view\(ptr \d+ .*, Object, 1\): Object is not a typed-array constructor/);
  });
  it('a negative, fractional or non-number length: INVALID_SIZE', () => {
    throwsHeapError(() => heap.allocArray(Float64Array, -1), 'INVALID_SIZE', /allocArray\(Float64Array, -1\): length -1 is not a non-negative integer/);
    throwsHeapError(() => heap.callocArray(Int16Array, 2.5), 'INVALID_SIZE', /callocArray\(Int16Array, 2.5\): length 2.5 is not a non-negative integer/);
    throwsHeapError(() => heap.allocArray(Uint8Array, '8' as never), 'INVALID_SIZE', /allocArray\(Uint8Array, "8"\): length "8" is not/);
    throwsHeapError(() => heap.reallocArray(heap.allocArray(Int32Array, 4)!, -3), 'INVALID_SIZE', /reallocArray\(Int32Array\[4\] at byteOffset \d+, -3\): length -3/);
  });
  it('a length whose bytes exceed the heap (or 2^32): INVALID_SIZE with the byte count', () => {
    throwsHeapError(() => heap.allocArray(Float64Array, 2 ** 29), 'INVALID_SIZE', /allocArray\(Float64Array, 536870912\): 536870912 x 8 bytes = 4294967296 bytes is more than the heap \(4194304 bytes\)/);
    throwsHeapError(() => heap.allocArray(BigInt64Array, 2 ** 40), 'INVALID_SIZE', /more than the heap/);
  });
  it('a length the heap could hold but has no room for now returns null', () => {
    assert.equal(heap.allocArray(Uint8Array, 4 * MiB - 1), null);
    heap.check();
  });
  it('view past the usable size: INVALID_SIZE naming ptr, n and the usable size; a misaligned or freed block: INVALID_POINTER', () => {
    const p = heap.malloc(100);
    const usable = heap.usableSize(p);
    throwsHeapError(() => heap.view(p + 1, Uint8Array, 1), 'INVALID_POINTER', new RegExp(`usableSize\\(ptr ${p + 1} `));
    const q = heap.alignedAlloc(8, 100);
    const u = heap.usableSize(q);
    throwsHeapError(() => heap.view(q, Float64Array, u / 8 + 1), 'INVALID_SIZE',
      new RegExp(`view\\(ptr ${q} \\(0x[0-9a-f]+\\), Float64Array, ${u / 8 + 1}\\): ${u / 8 + 1} elements need ${u + 8} bytes, past the block's usable size ${u}`));
    // malloc's tiny blocks on a header heap are 1 mod 8: no Float64Array over them.
    throwsHeapError(() => heap.view(p, Float64Array, 1), 'INVALID_POINTER', /not aligned to Float64Array's 8 bytes \(allocate it with alignedAlloc or allocArray\)/);
    assert.equal(heap.view(p, Uint8Array, usable).length, usable);
    heap.free(p);
    throwsHeapError(() => heap.view(p, Uint8Array, 1), 'INVALID_POINTER', /use after free/);
    heap.free(q);
    heap.check();
  });
});

describe('typed views across workers', () => {
  for (const options of [{ preset: 'current' }, { preset: 'aligned' }] as const) {
    it(`${options.preset}: a Float64Array allocated by one worker is freed by another with freeArray (a remote free)`, async () => {
      // tinySlabAfterBytes 0: the block on the sender's slab, not inside a coalescing block of no owner.
      const heap = createHeap({ bytes: 16 * MiB, shared: true, tinySlabAfterBytes: 0, ...options });
      const handle = heap.handle();
      const { port1, port2 } = new MessageChannel();
      const length = 100; // 800 bytes: a tiny block, owned by the sender's slab
      const job = (role: ViewsWorkerJob['role'], port: typeof port1): ViewsWorkerJob => ({ role, handle, port, length });
      const [sender, receiver]: WorkerOutcome<ViewsWorkerMessage>[] = await Promise.all([
        runWorker<ViewsWorkerMessage>(fixture('threads-views-worker.ts'), job('sender', port1), undefined, [port1]),
        runWorker<ViewsWorkerMessage>(fixture('threads-views-worker.ts'), job('receiver', port2), undefined, [port2]),
      ]);
      for (const o of [sender, receiver]) assert.equal(o.messages.find((m) => m.type === 'failed'), undefined, JSON.stringify(o.messages));
      const sent = messageOf(sender, 'sent');
      const freed = messageOf(receiver, 'freed');
      assert.notEqual(sent.tid, freed.tid);
      assert.equal(freed.ptr, sent.ptr, "the receiver's view starts at the sender's pointer");
      assert.equal(sent.ptr % 8, 0);
      assert.ok(freed.isFloat64);
      assert.equal(freed.sum, (1.5 * length * (length - 1)) / 2, 'the receiver read the values the sender wrote');
      assert.equal(freed.remote, 1, 'the free was remote: the receiver does not own the slab');
      assert.ok(heap.stats().routes.remote >= 1, 'the remote free is in the merged stats');
      heap.trim();
      heap.check();
      // The block was freed: the main thread cannot free it again.
      assert.throws(() => heap.free(sent.ptr), (e: unknown) => e instanceof HeapError && (e.code === 'DOUBLE_FREE' || e.code === 'INVALID_POINTER'));
    });
  }
});
