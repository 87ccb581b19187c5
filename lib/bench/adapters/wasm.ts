/**
 * A WebAssembly allocator (wasm-modules.ts) under test: pointers are byte offsets into the instance's
 * memory, 0 is null, and every call goes to the module's exports. memory.grow is the allocator's sbrk;
 * it detaches the memory's old ArrayBuffer, so the byte view is made anew when it reads too short (a
 * detached view reads length 0), checked where bytes are read or written.
 */
import { promises as fs } from 'node:fs';
import { isSkipped, type Skipped } from '../../build/build-c';
import type { FootprintProbe, MallocFree, BlockMemory, ReplayAllocator } from './allocator-adapter';
import type { WasmAllocatorName } from './allocators';
import { buildWasmAllocator, type WasmBuildOptions } from './wasm-modules';

/** The part of the engine's WebAssembly API used here (TypeScript declares it only in its DOM library, not loaded here). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmApi {
  Memory: new (...args: never[]) => WasmMemory;
  Module: { imports(module: object): { module: string; name: string; kind: string }[] };
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: Record<string, Record<string, () => void>>): Promise<{ exports: Record<string, unknown> }>;
}
const WebAssemblyApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** What the adapter calls: the libc's malloc family and scripts/wasm/allocator-exports.c. */
interface AllocatorExports {
  memory: WasmMemory;
  malloc(size: number): number;
  free(ptr: number): void;
  calloc(n: number, size: number): number;
  realloc(ptr: number, size: number): number;
  aligned_malloc(alignment: number, size: number): number;
  heap_base(): number;
  heap_break(): number;
}

const REQUIRED_EXPORTS = ['malloc', 'free', 'calloc', 'realloc', 'aligned_malloc', 'heap_base', 'heap_break'] as const;

/** The footprint's unit, as resident size counts it. */
const PAGE = 4096;

export class WasmAllocator implements ReplayAllocator<number> {
  readonly empty = 0;
  /** The export functions themselves: a loop's call costs what the module's call costs. */
  readonly target: MallocFree<number>;
  readonly footprint: FootprintProbe;
  readonly memory: BlockMemory;
  private u8: Uint8Array;

  constructor(
    readonly name: WasmAllocatorName,
    private readonly exports: AllocatorExports,
  ) {
    this.target = { malloc: exports.malloc, free: exports.free };
    this.u8 = new Uint8Array(exports.memory.buffer);
    this.memory = { pointers: 'offsets', bytes: () => this.bytes(exports.memory.buffer.byteLength) };
    // The break only falls where dlmalloc gives its top back through a negative sbrk (emscripten's).
    let peak = 0;
    this.footprint = {
      method:
        'wasm heap from its base to the program break (sbrk(0) - __heap_base, 4 KiB units), sampled after every op: ' +
        'what the allocator took through memory.grow, without static data, the stack or memory above the break',
      current: () => {
        const bytes = Math.ceil((exports.heap_break() - exports.heap_base()) / PAGE) * PAGE;
        if (bytes > peak) peak = bytes;
        return bytes;
      },
      peak: () => peak,
      peakNeedsSampling: true,
    };
  }

  /** The memory's bytes up to at least `end`, viewed anew after memory.grow. */
  private bytes(end: number): Uint8Array {
    if (end > this.u8.length) this.u8 = new Uint8Array(this.exports.memory.buffer);
    return this.u8;
  }

  touch(ptr: number, size: number, value: number): void {
    const u8 = this.bytes(ptr + size);
    u8[ptr] = value;
    u8[ptr + size - 1] = value;
  }

  newSlots(n: number): Int32Array {
    return new Int32Array(n);
  }

  calloc(n: number, size: number): number {
    return this.exports.calloc(n, size);
  }

  realloc(ptr: number, _oldSize: number, size: number): number {
    return this.exports.realloc(ptr, size);
  }

  alignedAlloc(alignment: number, size: number): number {
    return this.exports.aligned_malloc(alignment, size);
  }

  freeAligned(ptr: number): void {
    this.exports.free(ptr);
  }

  isAligned(ptr: number, alignment: number): boolean {
    return ptr % alignment === 0;
  }

  byteAt(ptr: number, offset: number): number {
    return this.bytes(ptr + offset + 1)[ptr + offset];
  }

  fill(ptr: number, size: number, value: number): void {
    this.bytes(ptr + size).fill(value, ptr, ptr + size);
  }
}

/** The allocator's module, built if need be and instantiated; or why it cannot be built here. */
export async function createWasmAllocator(name: WasmAllocatorName, options: WasmBuildOptions = {}): Promise<WasmAllocator | Skipped> {
  const file = await buildWasmAllocator(name, options);
  if (isSkipped(file)) return file;
  const module = await WebAssemblyApi.compile(await fs.readFile(file));
  const { exports } = await WebAssemblyApi.instantiate(module, hostImports(name, module));
  const missing = REQUIRED_EXPORTS.find((f) => typeof exports[f] !== 'function');
  if (missing !== undefined || !(exports.memory instanceof WebAssemblyApi.Memory)) {
    throw new Error(`${name}: ${file} exports no ${missing ?? 'memory'}: rebuild it (delete the file)`);
  }
  // A reactor's start: runs the module's constructors (libc's own setup).
  if (typeof exports._initialize === 'function') (exports._initialize as () => void)();
  return new WasmAllocator(name, exports as unknown as AllocatorExports);
}

/**
 * What the module imports: emscripten tells the host that memory grew (the adapter notices by itself),
 * anything else is a call the malloc family should never make (a WASI call on an abort path): it throws.
 */
function hostImports(name: string, module: object): Record<string, Record<string, () => void>> {
  const imports: Record<string, Record<string, () => void>> = {};
  for (const i of WebAssemblyApi.Module.imports(module)) {
    if (i.kind !== 'function') throw new Error(`${name}: the module imports a ${i.kind} (${i.module}.${i.name}), which the adapter does not provide`);
    const stub =
      i.name === 'emscripten_notify_memory_growth'
        ? () => {}
        : () => {
            throw new Error(`${name}: the allocator called the host import ${i.module}.${i.name}`);
          };
    (imports[i.module] ??= {})[i.name] = stub;
  }
  return imports;
}
