/**
 * Zeroing and copying a block's bytes, for calloc and realloc. A call to u8.fill or u8.copyWithin costs
 * 20-30 ns whatever the length (V8 builtins); most blocks those calls see are a few dozen bytes, which
 * a loop over the aligned 32-bit words (i32: the same buffer) does in 6-15 ns. Longer runs go to the
 * builtins, which win from about 96 bytes (measured on V8 11, Node 20), over the 32-bit words where
 * the ends allow: on a SharedArrayBuffer a Uint8Array's fill and copyWithin store byte by byte, about
 * 8x the time of an Int32Array's over the same bytes.
 */

/** The longest run done by the word loops. */
const LOOP_MAX_BYTES = 80;

/** Bytes [from, to) of u8 set to 0. */
export function zeroBytes(u8: Uint8Array, i32: Int32Array, from: number, to: number): void {
  let p = from;
  while (p < to && (p & 3) !== 0) u8[p++] = 0;
  const end = to & ~3;
  if (to - from > LOOP_MAX_BYTES) i32.fill(0, p >> 2, end >> 2);
  else for (let w = p >> 2; w < end >> 2; w++) i32[w] = 0;
  for (let q = p > end ? p : end; q < to; q++) u8[q] = 0;
}

/** n bytes copied from `from` to `to` within u8; the two ranges must not overlap (two distinct blocks). */
export function copyBytes(u8: Uint8Array, i32: Int32Array, to: number, from: number, n: number): void {
  // Words need both ends equally aligned; else the builtin on bytes.
  if (((to ^ from) & 3) !== 0) {
    u8.copyWithin(to, from, from + n);
    return;
  }
  let k = 0;
  while (k < n && ((from + k) & 3) !== 0) {
    u8[to + k] = u8[from + k];
    k++;
  }
  const words = (n - k) >> 2;
  copyWords(i32, (to + k) >> 2, (from + k) >> 2, words);
  for (k += words << 2; k < n; k++) u8[to + k] = u8[from + k];
}

/**
 * `words` 32-bit words copied from word index `src` to `dst` (two distinct blocks). Up to 8 words
 * (realloc's tiny moves, mostly) in straight code: in a loop V8 loads the array's length and base
 * again at every turn, 24 instructions a word. Longer runs in a function of their own, so that this
 * one's bytecode leaves realloc room to be inlined into its callers (docs/footprint.md "realloc's
 * bytecode, and a block that fits").
 */
export function copyWords(i32: Int32Array, dst: number, src: number, words: number): void {
  if (words > 8) return copyManyWords(i32, dst, src, words);
  // Each case falls through to the next: words 8..1 copied from the last down.
  switch (words) {
    case 8: i32[dst + 7] = i32[src + 7];
    case 7: i32[dst + 6] = i32[src + 6];
    case 6: i32[dst + 5] = i32[src + 5];
    case 5: i32[dst + 4] = i32[src + 4];
    case 4: i32[dst + 3] = i32[src + 3];
    case 3: i32[dst + 2] = i32[src + 2];
    case 2: i32[dst + 1] = i32[src + 1];
    case 1: i32[dst] = i32[src];
  }
}

/** copyWords' runs of more than 8 words. */
function copyManyWords(i32: Int32Array, dst: number, src: number, words: number): void {
  if (words << 2 > LOOP_MAX_BYTES) i32.copyWithin(dst, src, src + words);
  else for (let w = 0; w < words; w++) i32[dst + w] = i32[src + w];
}
