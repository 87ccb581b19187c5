/**
 * The floor of a heap whose small blocks live on pages of one class each (lib/bench/measures/class-floor.ts):
 * exact figures on hand-made traces, with the heap's classes, with pages that never change class and
 * with the best classes at each op, and a heap's resident bytes above the first on random traces
 * (blocks in their smallest class: no borrowing, no realloc that shrinks, callocs and aligned
 * allocations among the mallocs).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classFloorOptions, classFloors, type ClassFloorOptions } from '../lib/bench/measures/class-floor';
import { parseTraceText } from '../lib/trace/read';
import { createHeap, resolveConfig, WIDE_TINY_CLASSES } from '../lib';
import { ALIGN16_TINY_CLASSES } from '../lib/alloc/size-classes';
import { OP_ALIGNED, OP_CALLOC, OP_FREE, OP_REALLOC, requestBytes, type Trace } from '../lib/trace/trace';

const trace = (lines: string[]) => parseTraceText(['# hakmem-trace v1', ...lines].join('\n'), 'test');
const HEADER_HEAP: ClassFloorOptions = { classes: [16, 32, 64], header: 1, granule: 8 };

describe('class floor', () => {
  it('counts each class in whole 4 KiB pages and larger blocks at their bytes, at the op where the sum peaks', () => {
    const lines: string[] = [];
    // 300 blocks of 10 bytes (11 with the header: class 16, 4800 bytes, 2 pages), one of 20 (class 32, 1 page), one of 100.
    for (let id = 1; id <= 300; id++) lines.push(`m ${id} 10`);
    lines.push('m 301 20', 'm 302 100');
    for (let id = 1; id <= 302; id++) lines.push(`f ${id}`);
    const f = classFloors(trace(lines), HEADER_HEAP);
    assert.deepEqual(f.heapClasses, { bytes: 2 * 4096 + 4096 + 100, op: 302 });
    // The best classes put the 11-byte and the 21-byte needs in one class of 24: 301 * 24 bytes, 2 pages.
    assert.deepEqual(f.anyClasses, { bytes: 2 * 4096 + 100, op: 302 });
  });

  it('moves a reallocated block to its new class, and keeps the most the sum reached', () => {
    const f = classFloors(trace(['m 1 10', 'm 2 10', 'r 1 40', 'r 1 1000', 'f 1', 'f 2']), HEADER_HEAP);
    // After `r 1 40`: classes 16 and 64 take a page each. After `r 1 1000`: class 16's page and 1000 bytes above the tier.
    assert.deepEqual(f.heapClasses, { bytes: 2 * 4096, op: 3 });
    // The best classes hold the 11- and 41-byte needs in one class of 48 after `r 1 40`, so their most is after `r 1 1000`.
    assert.deepEqual(f.anyClasses, { bytes: 4096 + 1000, op: 4 });
  });

  it('keeps each class at the most pages it has needed, where pages never change class', () => {
    // 300 blocks of class 16 (a second page from the 257th) freed, then one of class 64: the live blocks need 2 pages at most, kept pages 3.
    const lines = [...Array.from({ length: 300 }, (_, i) => `m ${i + 1} 10`), ...Array.from({ length: 300 }, (_, i) => `f ${i + 1}`), 'm 400 40'];
    const f = classFloors(trace(lines), HEADER_HEAP);
    assert.deepEqual(f.heapClasses, { bytes: 2 * 4096, op: 257 });
    assert.deepEqual(f.pagesKept, { bytes: 3 * 4096, op: 601 });
  });

  it('counts the header in a block\'s need, and the tier ends at its last class', () => {
    // 256 requests of 16 bytes need 17: class 32, two pages (one page if the header were left out).
    const f = classFloors(trace(Array.from({ length: 256 }, (_, i) => `m ${i + 1} 16`)), HEADER_HEAP);
    assert.equal(f.heapClasses.bytes, 2 * 4096);
    const current = classFloorOptions(resolveConfig({ preset: 'current' }));
    assert.equal(classFloors(trace(['m 1 1031']), current).heapClasses.bytes, 4096, '1031 bytes and the header: the 1032-byte class');
    assert.equal(classFloors(trace(['m 1 1032']), current).heapClasses.bytes, 1032, 'beyond the tier: its own bytes');
  });

  it('gives each of the best classes the largest need of its run', () => {
    // 200 needs of 16 and one of 64: a class for each (a page each), not one class of 64 (four pages).
    const lines = [...Array.from({ length: 200 }, (_, i) => `m ${i + 1} 16`), 'm 300 64'];
    const f = classFloors(trace(lines), { classes: [16, 64], header: 0, granule: 16 });
    assert.deepEqual(f.anyClasses, { bytes: 2 * 4096, op: 201 });
    // 255 needs of 16 and one of 17, which rounds up to 32: one class of 32 would take two pages, so two classes.
    const g = classFloors(trace([...Array.from({ length: 255 }, (_, i) => `m ${i + 1} 16`), 'm 300 17']), { classes: [16, 32], header: 0, granule: 16 });
    assert.equal(g.anyClasses.bytes, 2 * 4096);
  });

  it('counts an aligned request nothing up to the tier\'s end (its carrier may sit in any class), and its bytes beyond', () => {
    const f = classFloors(trace(['m 1 35', 'a 2 16 1', 'a 3 64 5000']), HEADER_HEAP);
    assert.deepEqual(f.heapClasses, { bytes: 4096 + 5000, op: 3 });
    // The reallocated aligned block still counts nothing; freed, its ID may hold a plain block again.
    const g = classFloors(trace(['a 1 16 1', 'r 1 10', 'f 1', 'm 1 10']), HEADER_HEAP);
    assert.deepEqual(g.heapClasses, { bytes: 4096, op: 4 });
  });

  it("takes a heap's classes, header and granule from its configuration", () => {
    assert.deepEqual(classFloorOptions(resolveConfig({ preset: 'current' })), { classes: WIDE_TINY_CLASSES, header: 1, granule: 8 });
    assert.deepEqual(classFloorOptions(resolveConfig({ preset: 'aligned' })), { classes: ALIGN16_TINY_CLASSES, header: 0, granule: 16 });
    assert.deepEqual(classFloorOptions(resolveConfig({ preset: 'compact' })).classes, [16], "compact's tiny tier ends at its first class");
  });

  it('adds no header on header-free heaps, and chooses the best classes from multiples of the granule', () => {
    // 256 blocks of 16 bytes fill a page of class 16 exactly; one of 17 takes class 32.
    const lines = [...Array.from({ length: 256 }, (_, i) => `m ${i + 1} 16`), 'm 300 17'];
    const f = classFloors(trace(lines), { classes: [16, 32, 64], header: 0, granule: 16 });
    assert.deepEqual(f.heapClasses, { bytes: 2 * 4096, op: 257 });
    // Any classes of 16-byte multiples: the 17-byte block needs 32 whatever, so two pages still (one class of 32 would take 257 * 32).
    assert.deepEqual(f.anyClasses, { bytes: 2 * 4096, op: 257 });
  });

  it("lies under a heap's resident bytes when every block sits in its smallest class", () => {
    for (const seed of [1, 2, 3]) {
      const t = randomTrace(seed, 6000);
      const floors = classFloors(t, classFloorOptions(resolveConfig({ preset: 'current' })));
      assert.ok(floors.anyClasses.bytes <= floors.heapClasses.bytes, `seed ${seed}: best classes above the heap's`);
      assert.ok(floors.pagesKept.bytes >= floors.heapClasses.bytes, `seed ${seed}: kept pages below the live blocks' pages`);
      for (const preset of ['current', 'compact'] as const) {
        const heap = createHeap({ preset, bytes: 64 << 20, tinyBorrowNextClass: false });
        const own = classFloors(t, classFloorOptions(heap.config)).heapClasses.bytes;
        replay(heap, t);
        const resident = heap.stats().residentBytes;
        assert.ok(resident >= own, `seed ${seed}, ${preset}: resident ${resident} below the floor ${own}`);
      }
    }
  });
});

/** Mallocs, callocs and aligned allocations of 1..1200 bytes (a few of 20 KB), reallocs that only grow, frees: about 400 blocks live. */
function randomTrace(seed: number, ops: number): Trace {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const live: Array<[number, number]> = [];
  const lines: string[] = [];
  let next = 1;
  for (let i = 0; i < ops; i++) {
    const r = rand();
    if (live.length > 0 && r < 0.4 - (live.length < 400 ? 0.1 : 0)) {
      const [id] = live.splice(Math.floor(rand() * live.length), 1)[0];
      lines.push(`f ${id}`);
    } else if (live.length > 0 && r < 0.55) {
      const k = Math.floor(rand() * live.length);
      live[k][1] += 1 + Math.floor(rand() * 200);
      lines.push(`r ${live[k][0]} ${live[k][1]}`);
    } else {
      const size = rand() < 0.02 ? 20_000 : 1 + Math.floor(rand() * rand() * 1200);
      const kind = rand();
      if (kind < 0.05) {
        live.push([next, 3 * size]);
        lines.push(`c ${next++} 3 ${size}`);
      } else if (kind < 0.1) {
        live.push([next, size]);
        lines.push(`a ${next++} ${kind < 0.075 ? 16 : 64} ${size}`);
      } else {
        live.push([next, size]);
        lines.push(`m ${next++} ${size}`);
      }
    }
  }
  return trace(lines);
}

/** Replays `t` on `heap`, in recorded order. */
function replay(heap: ReturnType<typeof createHeap>, t: Trace): void {
  const ptrs = new Map<number, number>();
  for (let i = 0; i < t.length; i++) {
    const id = t.id[i];
    if (t.kind[i] === OP_FREE) {
      heap.free(ptrs.get(id)!);
      ptrs.delete(id);
      continue;
    }
    const n = requestBytes(t, i);
    const k = t.kind[i];
    const p =
      k === OP_REALLOC ? heap.realloc(ptrs.get(id)!, n) : k === OP_CALLOC ? heap.calloc(t.aux[i], t.size[i]) : k === OP_ALIGNED ? heap.alignedAlloc(t.aux[i], n) : heap.malloc(n);
    assert.notEqual(p, 0, `op ${i} out of memory`);
    heap.u8.fill(1, p, p + n); // written whole, as the bench's footprint pass writes them
    ptrs.set(id, p);
  }
}
