/** calloc's zeroing and realloc's copy (lib/alloc/small-bytes.ts) against the plain byte-by-byte result, at every alignment. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { copyBytes, zeroBytes } from '../lib/alloc/small-bytes';

function memory(bytes: number) {
  const u8 = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) u8[i] = (i * 7 + 3) & 255 || 1;
  return { u8, i32: new Int32Array(u8.buffer) };
}

describe('small-bytes', () => {
  test('zeroBytes: exactly [from, to) is zero, every start alignment and length up to past the loop limit', () => {
    for (let from = 1; from < 9; from++) {
      for (let n = 0; n <= 130; n++) {
        const { u8, i32 } = memory(256);
        const want = Uint8Array.from(u8).fill(0, from, from + n);
        zeroBytes(u8, i32, from, from + n);
        assert.deepEqual(u8, want, `from ${from}, ${n} bytes`);
      }
    }
  });

  test('copyBytes: exactly n bytes land at `to`, equal and unequal alignments, up to past the loop limit', () => {
    for (const [to, from] of [[129, 1], [130, 2], [132, 0], [131, 6], [160, 33], [200, 5]]) {
      for (let n = 0; n <= 100; n++) {
        const { u8, i32 } = memory(512);
        const want = Uint8Array.from(u8);
        want.set(u8.subarray(from, from + n), to);
        copyBytes(u8, i32, to, from, n);
        assert.deepEqual(u8, want, `to ${to}, from ${from}, ${n} bytes`);
      }
    }
  });
});
