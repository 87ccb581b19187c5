/*
 * What a WebAssembly allocator module exports besides its libc's malloc, free, calloc and realloc
 * (exported by the link flags, lib/bench/adapters/wasm-modules.ts): an aligned allocation with the
 * native replayer's rule, and the heap's bounds for the footprint.
 */
#include <stdlib.h>
#include <unistd.h>

/* Where the linker (wasm-ld, also under emcc) starts the heap: after static data and the stack. */
extern unsigned char __heap_base;

__attribute__((export_name("aligned_malloc"))) void *aligned_malloc(size_t alignment, size_t size) {
  /* posix_memalign, as the native replayer: C asks for a power of two that is a multiple of sizeof(void *). */
  void *p;
  return posix_memalign(&p, alignment < sizeof(void *) ? sizeof(void *) : alignment, size) == 0 ? p : NULL;
}

__attribute__((export_name("heap_base"))) size_t heap_base(void) { return (size_t)&__heap_base; }

/* The program break: the top of what the allocator has taken through sbrk, whose growth is memory.grow. */
__attribute__((export_name("heap_break"))) size_t heap_break(void) { return (size_t)sbrk(0); }
