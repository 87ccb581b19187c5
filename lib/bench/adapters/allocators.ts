/**
 * The names of every allocator a benchmark can run on: the TypeScript ones
 * run in-process through an adapter (lib/bench/adapters), the native ones in
 * the C harness (lib/bench/native/run-native.ts).
 */
import { NATIVE_ALLOCATORS, type NativeAllocator } from '../native/run-native';

export const TS_ALLOCATORS = ['hakmem', 'v8', 'thing'] as const;
export type TsAllocatorName = (typeof TS_ALLOCATORS)[number];

export const ALLOCATORS = ['hakmem', ...NATIVE_ALLOCATORS, 'v8', 'thing'] as const;
export type AllocatorName = TsAllocatorName | NativeAllocator;

export function isAllocatorName(name: string): name is AllocatorName {
  return (ALLOCATORS as readonly string[]).includes(name);
}

export function isNativeAllocator(name: AllocatorName): name is NativeAllocator {
  return (NATIVE_ALLOCATORS as readonly string[]).includes(name);
}
