/**
 * Typed-array views over heap blocks: `heap.allocArray(Float64Array, n)` and friends. A view is a
 * typed array over the heap's buffer whose byteOffset is the block's pointer, element-aligned (on
 * align-1 heaps through alignedAlloc with the element size). On a shared heap that byteOffset is the
 * pointer another worker attaches to, and a view that came through postMessage (its own
 * SharedArrayBuffer object over the same memory) is recognised by the heap's id in the buffer header.
 */
import { HeapError, fmtPtr, fmtValue } from "./errors";
import type { Heap } from "./heap";
import { H, HEAP_MAGIC } from "./layout";

export type TypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** A typed-array constructor: what allocArray and view take. */
export interface TypedArrayConstructor<T extends TypedArray = TypedArray> {
  new (buffer: ArrayBuffer | SharedArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

const CONSTRUCTORS: readonly TypedArrayConstructor[] = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
];

function nameOf(v: unknown): string {
  return typeof v === "function" && v.name ? v.name : fmtValue(v);
}

function checkConstructor<T extends TypedArray>(call: string, Ctor: TypedArrayConstructor<T>): void {
  if (!CONSTRUCTORS.includes(Ctor as unknown as TypedArrayConstructor))
    throw new HeapError("INVALID_TYPE", `${call}: ${nameOf(Ctor)} is not a typed-array constructor (${CONSTRUCTORS.map((c) => c.name).join(", ")})`);
}

/** The byte length of `n` elements, after checking `n` and that the heap could ever hold them. */
function byteLengthOf(heap: Heap, call: string, Ctor: TypedArrayConstructor, n: number): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0)
    throw new HeapError("INVALID_SIZE", `${call}: length ${fmtValue(n)} is not a non-negative integer`);
  // Heaps are below 2^31 bytes, so this also keeps every view below the 2^32 bytes a typed array may span.
  const bytes = n * Ctor.BYTES_PER_ELEMENT;
  if (bytes > heap.mem.config.bytes)
    throw new HeapError("INVALID_SIZE", `${call}: ${n} x ${Ctor.BYTES_PER_ELEMENT} bytes = ${bytes} bytes is more than the heap (${heap.mem.config.bytes} bytes)`);
  return bytes;
}

/** A view of `n` elements at `ptr`, or null when the allocation that made `ptr` ran out of memory. */
function viewAt<T extends TypedArray>(heap: Heap, Ctor: TypedArrayConstructor<T>, ptr: number, n: number): T | null {
  return ptr === 0 ? null : new Ctor(heap.buffer, ptr, n);
}

export function allocArray<T extends TypedArray>(heap: Heap, Ctor: TypedArrayConstructor<T>, n: number, op = "allocArray"): T | null {
  const call = `${op}(${nameOf(Ctor)}, ${fmtValue(n)})`;
  checkConstructor(call, Ctor);
  const bytes = byteLengthOf(heap, call, Ctor, n);
  return viewAt(heap, Ctor, heap.alignedAlloc(Ctor.BYTES_PER_ELEMENT, bytes), n);
}

export function callocArray<T extends TypedArray>(heap: Heap, Ctor: TypedArrayConstructor<T>, n: number): T | null {
  const view = allocArray(heap, Ctor, n, "callocArray");
  if (view !== null) heap.u8.fill(0, view.byteOffset, view.byteOffset + view.byteLength);
  return view;
}

/** Whether `buffer` is this heap's memory: the same object, or a SharedArrayBuffer over it from another thread. */
function isHeapBuffer(heap: Heap, buffer: ArrayBufferLike): boolean {
  if (buffer === heap.buffer) return true;
  if (!heap.mem.shared || !(buffer instanceof SharedArrayBuffer) || buffer.byteLength !== heap.buffer.byteLength) return false;
  const words = new Int32Array(buffer, 0, H.WORDS);
  return words[H.MAGIC] === HEAP_MAGIC && words[H.HEAP_ID] === heap.i32[H.HEAP_ID];
}

function describeView(v: unknown): string {
  if (!ArrayBuffer.isView(v)) return fmtValue(v);
  const ctor = (v as object).constructor as { name?: string };
  const length = (v as { length?: number }).length;
  return `${ctor?.name ?? "view"}${length !== undefined ? `[${length}]` : ""} at byteOffset ${v.byteOffset}`;
}

/**
 * The pointer of a view the heap handed out, after checking that it is a typed array over this heap
 * starting at a live block (not inside one) and ending within it. A freed block's pointer passes as it
 * is, for free to name the double free.
 */
function pointerOfView(heap: Heap, view: TypedArray, op: string): number {
  const call = `${op}(${describeView(view)})`;
  if (!ArrayBuffer.isView(view) || view instanceof DataView)
    throw new HeapError("INVALID_TYPE", `${call}: not a typed array`);
  checkConstructor(call, view.constructor as TypedArrayConstructor);
  if (!isHeapBuffer(heap, view.buffer))
    throw new HeapError("INVALID_POINTER", `${call}: a view of another buffer, not of this heap`, view.byteOffset);
  const ptr = view.byteOffset;
  if (ptr !== 0 && heap.isFreedBlock(ptr)) return ptr;
  let usable: number;
  try {
    usable = heap.usableSize(ptr);
  } catch (e) {
    if (e instanceof HeapError && e.code === "INVALID_POINTER")
      throw new HeapError("INVALID_POINTER", `${call}: does not start a block of this heap (a sub-view?): ${e.message.slice("INVALID_POINTER: ".length)}`, ptr);
    throw e;
  }
  if (view.byteLength > usable)
    throw new HeapError("INVALID_POINTER", `${call}: its ${view.byteLength} bytes run past the block at ${fmtPtr(ptr)} (usable size ${usable})`, ptr);
  return ptr;
}

export function freeArray(heap: Heap, view: TypedArray): void {
  heap.free(pointerOfView(heap, view, "freeArray"));
}

/**
 * A view of `n` elements with the contents of `view` (the first min(old, n) elements), as realloc: in
 * the same block while it fits (a byte array's block shrunk as realloc shrinks it, reallocShrinks;
 * wider elements sit in aligned blocks, which stay), else in a new block (the old one freed). Null
 * when out of memory; the old view then stays valid.
 */
export function reallocArray<T extends TypedArray>(heap: Heap, view: T, n: number): T | null {
  const ptr = pointerOfView(heap, view, "reallocArray");
  const Ctor = view.constructor as TypedArrayConstructor<T>;
  const bytes = byteLengthOf(heap, `reallocArray(${describeView(view)}, ${fmtValue(n)})`, Ctor, n);
  if (bytes <= heap.usableSize(ptr)) return new Ctor(heap.buffer, bytes > 0 && Ctor.BYTES_PER_ELEMENT === 1 ? heap.realloc(ptr, bytes) : ptr, n);
  const grown = allocArray(heap, Ctor, n, "reallocArray");
  if (grown === null) return null;
  heap.u8.copyWithin(grown.byteOffset, ptr, ptr + view.byteLength);
  heap.free(ptr);
  return grown;
}

/** A view of `n` elements over the live block at `ptr`, which must hold them and be element-aligned. */
export function viewOf<T extends TypedArray>(heap: Heap, ptr: number, Ctor: TypedArrayConstructor<T>, n: number): T {
  const call = `view(${fmtPtr(ptr)}, ${nameOf(Ctor)}, ${fmtValue(n)})`;
  checkConstructor(call, Ctor);
  const bytes = byteLengthOf(heap, call, Ctor, n);
  const usable = heap.usableSize(ptr);
  if (ptr % Ctor.BYTES_PER_ELEMENT !== 0)
    throw new HeapError("INVALID_POINTER", `${call}: the block is not aligned to ${Ctor.name}'s ${Ctor.BYTES_PER_ELEMENT} bytes (allocate it with alignedAlloc or allocArray)`, ptr);
  if (bytes > usable)
    throw new HeapError("INVALID_SIZE", `${call}: ${n} elements need ${bytes} bytes, past the block's usable size ${usable}`, ptr);
  return new Ctor(heap.buffer, ptr, n);
}
