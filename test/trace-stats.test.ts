/** Trace statistics on a small trace whose counts, peak and lifetimes are worked out by hand. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTraceText } from '../lib/trace/read';
import { formatStats, traceStats } from '../lib/trace/stats';

// Live bytes after each op, and lifetimes (ops from allocation to free), in the comments.
const TRACE = `# hakmem-trace v1
m 0 100
c 1 4 25
a 2 64 50
r 0 300
f 1
@1 m 1 8
f 0
@1 f 1
m 0 0
`;
// op 0: 100; 1: 200; 2: 250; 3: 450 (peak); 4: 350, ID 1 lived 4 - 1 = 3; 5: 358;
// 6: 58, ID 0 lived 6 - 0 = 6 (its realloc does not restart it); 7: 50, lived 7 - 5 = 2; 8: 50.

test('counts, sizes, peak live bytes, lifetimes and threads', () => {
  const s = traceStats(parseTraceText(TRACE, 'known'));
  assert.equal(s.ops, 9);
  assert.deepEqual(s.counts, { malloc: 3, calloc: 1, realloc: 1, aligned: 1, free: 3 });
  assert.equal(s.threads, 2);
  assert.equal(s.peakLiveBytes, 450);
  assert.deepEqual(s.liveAtEnd, { blocks: 2, bytes: 50 });
  // Sorted lifetimes 2, 3, 6; nearest rank: p50 the 2nd, p90 and p99 the 3rd.
  assert.deepEqual(s.lifetime, { freed: 3, p50: 3, p90: 6, p99: 6, max: 6, neverFreed: 2 });
  assert.deepEqual(
    s.sizes.map((b) => [b.from, b.to, b.count]),
    [
      [0, 0, 1],
      [1, 1, 0],
      [2, 3, 0],
      [4, 7, 0],
      [8, 15, 1],
      [16, 31, 0],
      [32, 63, 1],
      [64, 127, 2], // malloc 100 and calloc 4 * 25
      [128, 255, 0],
      [256, 511, 1],
    ],
  );
  const text = formatStats(s, 'known');
  assert.match(text, /^known: 9 ops, 2 thread\(s\)\n/);
  assert.match(text, /peak live 450 bytes; live at the end 2 block\(s\), 50 bytes/);
  assert.match(text, /p50 3, p90 6, p99 6, max 6; never freed 2/);
});

test('a trace that frees nothing has no lifetime percentiles', () => {
  const s = traceStats(parseTraceText('# hakmem-trace v1\nm 5 16\n', 'nofree'));
  assert.deepEqual(s.lifetime, { freed: 0, p50: null, p90: null, p99: null, max: null, neverFreed: 1 });
  assert.match(formatStats(s, 'nofree'), /nothing freed/);
});
