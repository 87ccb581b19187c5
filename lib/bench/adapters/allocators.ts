/**
 * The names of every allocator a benchmark can run on: the TypeScript ones
 * run in-process through an adapter (lib/bench/adapters), the WebAssembly ones
 * too (a module's exports called by the same loops, wasm-modules.ts), the native
 * ones in the C harness (lib/bench/native/run-native.ts).
 */
import { NATIVE_ALLOCATORS, type NativeAllocator } from '../native/run-native';

export const WASM_ALLOCATORS = ['wasm-dlmalloc', 'wasm-emmalloc', 'wasm-emdlmalloc'] as const;
export type WasmAllocatorName = (typeof WASM_ALLOCATORS)[number];

export const TS_ALLOCATORS = ['hakmem', 'v8', 'thing', ...WASM_ALLOCATORS] as const;
export type TsAllocatorName = (typeof TS_ALLOCATORS)[number];

export const ALLOCATORS = ['hakmem', ...NATIVE_ALLOCATORS, 'v8', 'thing', ...WASM_ALLOCATORS] as const;
export type AllocatorName = TsAllocatorName | NativeAllocator;

export function isAllocatorName(name: string): name is AllocatorName {
  return (ALLOCATORS as readonly string[]).includes(name);
}

export function isNativeAllocator(name: AllocatorName): name is NativeAllocator {
  return (NATIVE_ALLOCATORS as readonly string[]).includes(name);
}

export function isWasmAllocator(name: AllocatorName): name is WasmAllocatorName {
  return (WASM_ALLOCATORS as readonly string[]).includes(name);
}

/** The JS engine's allocation, @thi.ng/malloc and the wasm builds (none shares its memory) have no heap worker threads can share. */
export function hasSharedHeap(allocator: AllocatorName): boolean {
  return allocator !== 'v8' && allocator !== 'thing' && !isWasmAllocator(allocator);
}
