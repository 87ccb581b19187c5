/**
 * The WebAssembly allocators: scripts/wasm/allocator-exports.c linked against a libc's malloc, built
 * on first use into .cache/wasm (lib/build) as a JS program would ship it (-O2, memory growth on):
 * - wasm-dlmalloc: Debian's wasi-libc (its dlmalloc) with clang-14 and lld-14, a WASI reactor module;
 * - wasm-emmalloc, wasm-emdlmalloc: Debian's emscripten with -sMALLOC=emmalloc / dlmalloc, standalone.
 * Memory is capped at 2 GiB, so every pointer an export returns is a non-negative int32.
 */
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { BUILD_CACHE, buildC, PROJECT_ROOT, type BuildTarget, type Compiler, type Prerequisite, type Skipped } from '../../build/build-c';
import type { WasmAllocatorName } from './allocators';

const SHIM = path.join(PROJECT_ROOT, 'scripts', 'wasm', 'allocator-exports.c');
const WASM_CACHE = path.join(BUILD_CACHE, 'wasm');
/** The libc functions the adapter calls; the shim exports its own (aligned_malloc, heap_base, heap_break). */
const LIBC_EXPORTS = ['malloc', 'free', 'calloc', 'realloc'];
const MAX_MEMORY = 2 ** 31;

export interface WasmBuildOptions {
  /**
   * The compiler command: default $HAKMEM_WASI_CC, else clang-14 (wasm-dlmalloc), and $HAKMEM_EMCC,
   * else emcc (the emscripten ones).
   */
  compiler?: string;
  /** Where the module is cached; default <project>/.cache/wasm. */
  cacheDir?: string;
}

/** The module's .wasm file, compiled now unless the cached one is current; or why it cannot be built here. */
export function buildWasmAllocator(name: WasmAllocatorName, options: WasmBuildOptions = {}): Promise<string | Skipped> {
  const output = path.join(options.cacheDir ?? WASM_CACHE, `${name}.wasm`);
  const target = name === 'wasm-dlmalloc' ? wasiTarget(options, output) : emscriptenTarget(name, options, output);
  return buildC(target).then((r) => (typeof r === 'string' ? r : { skipped: `${name}: ${r.skipped}` }));
}

function wasiTarget(options: WasmBuildOptions, output: string): BuildTarget {
  const compiler: Compiler = { command: options.compiler ?? process.env.HAKMEM_WASI_CC ?? 'clang-14', debianPackage: 'clang-14' };
  return {
    compiler,
    sources: [SHIM],
    flags: [
      '--target=wasm32-wasi',
      '-O2',
      // A library module: no main, _initialize runs its constructors; it imports nothing from WASI.
      '-mexec-model=reactor',
      ...LIBC_EXPORTS.map((f) => `-Wl,--export=${f}`),
      `-Wl,--max-memory=${MAX_MEMORY}`,
    ],
    requires: [
      { file: '/usr/lib/wasm32-wasi/libc.a', debianPackage: 'wasi-libc' },
      { file: '/usr/lib/llvm-14/bin/wasm-ld', debianPackage: 'lld-14' },
      wasmBuiltins(),
    ],
    output,
  };
}

/** clang's runtime library for wasm32 (in a folder named by clang's full version, e.g. 14.0.6). */
function wasmBuiltins(): Prerequisite {
  const root = '/usr/lib/llvm-14/lib/clang';
  const version = existsSync(root) ? (readdirSync(root)[0] ?? '14') : '14';
  return { file: path.join(root, version, 'lib', 'wasi', 'libclang_rt.builtins-wasm32.a'), debianPackage: 'libclang-rt-14-dev-wasm32' };
}

function emscriptenTarget(name: Exclude<WasmAllocatorName, 'wasm-dlmalloc'>, options: WasmBuildOptions, output: string): BuildTarget {
  const compiler: Compiler = { command: options.compiler ?? process.env.HAKMEM_EMCC ?? 'emcc', debianPackage: 'emscripten' };
  return {
    compiler,
    sources: [SHIM],
    flags: [
      '-O2',
      `-sMALLOC=${name === 'wasm-emmalloc' ? 'emmalloc' : 'dlmalloc'}`,
      // A .wasm of its own, no JS glue: a reactor with _initialize, as the wasi build.
      '-sSTANDALONE_WASM',
      '--no-entry',
      '-sALLOW_MEMORY_GROWTH',
      `-sMAXIMUM_MEMORY=${MAX_MEMORY}`,
      `-sEXPORTED_FUNCTIONS=${LIBC_EXPORTS.map((f) => `_${f}`).join(',')}`,
    ],
    output,
  };
}
