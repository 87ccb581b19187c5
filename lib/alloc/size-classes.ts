/**
 * Size classes of the tiny and mid tiers. On header heaps (align 1) a class is chosen from `size + 1`:
 * every block carries a 1-byte header in front of the user bytes, so a block of class size S serves
 * requests up to S - 1. Header-free heaps (align 8 or 16) serve requests up to S.
 */

/** The seed's eight tiny classes C0..C7 (Phase 7). */
export const SEED_TINY_CLASSES: readonly number[] = [8, 16, 32, 64, 128, 256, 512, 1024];

/**
 * This project's tiny classes. Most of programs' requests are small, so the classes are 8 bytes apart
 * up to 64 (as mimalloc's bins: a 20-byte request takes a 24-byte block, not 32), then at most 1.6x
 * apart; a 1..7-byte request takes 16 (no 8-byte class). The last is 1032, not 1024, so that a
 * 1024-byte request (1025 bytes with its header) stays tiny instead of taking a mid block. On the
 * bundled traces, these against the earlier set (16, 32, 48, 56, 64, 80, 96, 128, 160, 192, 256, 320,
 * 384, 512, 768, 1032) cut the rounding at the peak by a third on lua-objects and redis-server
 * (docs/footprint.md). Sixteen, the header's 4-bit class field: the presets that keep it (`compact`).
 */
export const FINE_TINY_CLASSES: readonly number[] = [
  16, 24, 32, 40, 48, 56, 64, 80, 96, 128, 160, 256, 384, 512, 768, 1032,
];

/**
 * FINE_TINY_CLASSES with 320 and 448 between 256, 384 and 512, where programs' directory entries and
 * objects of 257 to 447 bytes took up to a third more than they asked (find's 264-350 bytes, jq's
 * 392); and without 16, so a request of up to 23 bytes has 23, as glibc's smallest chunk gives 24:
 * a string that grows from under 16 bytes to under 24 stays where it is (sed-rewrite's 4 -> 20 and
 * 8 -> 16, 39,728 of its reallocs a pass), and no bundled trace holds more at its peak
 * (docs/footprint.md "No 16-byte class"). Seventeen classes, so the last has the wide header
 * (header.ts). `current`'s.
 */
export const WIDE_TINY_CLASSES: readonly number[] = [
  24, 32, 40, 48, 56, 64, 80, 96, 128, 160, 256, 320, 384, 448, 512, 768, 1032,
];

/**
 * Tiny classes of header-free heaps: multiples of the alignment, so every block is aligned, and every
 * power of two up to 1 KiB is a class of its own (a 128-byte request takes a 128-byte block).
 */
export const ALIGN8_TINY_CLASSES: readonly number[] = [
  8, 16, 24, 32, 48, 64, 80, 96, 128, 160, 192, 256, 384, 512, 768, 1024,
];
export const ALIGN16_TINY_CLASSES: readonly number[] = [
  16, 32, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512, 640, 768, 1024,
];

/** Block alignments a heap can promise: 1 (the 1-byte header), 8 or 16 (header-free blocks). */
export const HEAP_ALIGNMENTS = [1, 8, 16] as const;
export type HeapAlignment = (typeof HEAP_ALIGNMENTS)[number];

/** The tiny classes a header-free heap of this alignment uses unless told otherwise. */
export function tinyClassesFor(align: 8 | 16): readonly number[] {
  return align === 8 ? ALIGN8_TINY_CLASSES : ALIGN16_TINY_CLASSES;
}

/** The seed's mid ("Pool TLS") classes, header `0xB0 | class`. */
export const MID_CLASSES: readonly number[] = [
  2048, 4096, 8192, 16384, 32768, 40960, 53248,
];

/**
 * This project's mid classes: sixteen (the header's 4-bit class field), multiples of 512 bytes from
 * 2 to 52 KiB, at most 1.45x apart (the seed's are 2x apart up to 32 KiB), with a class 512 bytes
 * above 2, 4, 8, 16 and 32 KiB: a request of a power of two plus the header byte takes that class
 * instead of one up to twice its size.
 */
export const FINE_MID_CLASSES: readonly number[] = [
  2048, 2560, 3072, 4096, 4608, 5632, 6656, 8192, 8704, 12288, 16896, 24576, 33280, 40960, 47104, 53248,
];

/** Mid blocks start on multiples of this (every mid class of every heap is a multiple of it). */
export const MID_GRANULE = 512;

/**
 * Mid class by table: entry k is the smallest class of at least k * MID_GRANULE bytes, so a request
 * of `size` bytes takes entry ceil((size + 1) / 512) = (size + 512) >> 9 with a header byte, and
 * (size + 511) >> 9 without.
 */
export function midClassTable(classes: readonly number[]): Uint8Array {
  return Uint8Array.from({ length: classes[classes.length - 1] / MID_GRANULE + 1 }, (_, k) => classes.findIndex((size) => size >= k * MID_GRANULE));
}

/** Most classes a 4-bit header field can name: mid classes, and the tiny classes of most heaps. */
export const MAX_CLASSES = 16;
/** Most tiny classes: a heap with wide tiny headers (header.ts) names them in 5 bits. */
export const MAX_TINY_CLASSES = 32;

/**
 * A lookup table from request size to class index, for sizes 0 .. classes[last] - headerBytes (its
 * length is the first size that is not tiny). Built once per heap; the fast path indexes it instead
 * of branching on size.
 */
export function classTable(classes: readonly number[], headerBytes: 0 | 1 = 1): Uint8Array {
  const limit = classes[classes.length - 1] + 1 - headerBytes;
  const table = new Uint8Array(limit);
  let cls = 0;
  for (let size = 0; size < limit; size++) {
    while (size + headerBytes > classes[cls]) cls++;
    table[size] = cls;
  }
  return table;
}
