/**
 * The chunk glibc's malloc (64-bit) holds for a request in its heap: the request and the chunk's
 * 8-byte size word, rounded up to 16 bytes, and at least 32 (malloc.c: request2size, MINSIZE). A
 * chunk glibc maps on its own is this rounded up to its pages, and an aligned request's chunk is
 * this once memalign has given back the bytes around it, so summed over a program's live blocks it
 * is the least glibc can hold for them, before its free chunks and its top: a floor to set each of
 * hakmem's tiers against.
 */
export function glibcChunkBytes(request: number): number {
  return Math.max(32, Math.ceil((request + 8) / 16) * 16);
}
