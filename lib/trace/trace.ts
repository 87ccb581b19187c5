/**
 * An allocation trace in memory: one op per index, in columns, so a replay loop reads typed arrays
 * only. The text form (format v1, lib/trace/README.md) and the binary form (scripts/native/trace-format.h)
 * both parse into this and are written from it.
 */

/** Op kinds, as the binary form stores them. */
export const OP_MALLOC = 0;
export const OP_CALLOC = 1;
export const OP_REALLOC = 2;
export const OP_ALIGNED = 3;
export const OP_FREE = 4;
export type OpKind = typeof OP_MALLOC | typeof OP_CALLOC | typeof OP_REALLOC | typeof OP_ALIGNED | typeof OP_FREE;

/** The text form's letter per op kind. */
export const OP_LETTERS = ['m', 'c', 'r', 'a', 'f'] as const;

export interface Trace {
  /** Number of ops. */
  readonly length: number;
  /** OP_* per op. */
  readonly kind: Uint8Array;
  /** The block ID the op names (for realloc: the block resized, which keeps its ID). */
  readonly id: Uint32Array;
  /** malloc, realloc, aligned: SIZE; calloc: SIZE of one element; free: 0. */
  readonly size: Float64Array;
  /** calloc: N (elements); aligned: ALIGN; otherwise 0. */
  readonly aux: Float64Array;
  /** The recorded thread's tag (`@T`); 0 for untagged lines. */
  readonly thread: Uint16Array;
  /** The header comment lines, without their leading `# ` (the version line excluded). */
  readonly comments: readonly string[];
}

/** A trace of `n` ops with every column zero (op kind malloc, ID 0, size 0), for its maker to fill in. */
export function blankTrace(n: number) {
  return {
    length: n,
    kind: new Uint8Array(n),
    id: new Uint32Array(n),
    size: new Float64Array(n),
    aux: new Float64Array(n),
    thread: new Uint16Array(n),
    comments: [] as string[],
  };
}

/** Bytes an op asks for: N * SIZE for calloc, SIZE otherwise (0 for free). */
export function requestBytes(t: Trace, i: number): number {
  return t.kind[i] === OP_CALLOC ? t.aux[i] * t.size[i] : t.size[i];
}

/** The text form's required first line. */
export const TEXT_VERSION_LINE = '# hakmem-trace v1';
/** The binary form's first bytes (TRACE_MAGIC in trace-format.h), then a u32 comment byte count. */
export const BINARY_MAGIC = 'HKTRACE1';
/** Bytes per binary record (trace_record_t). */
export const BINARY_RECORD_BYTES = 24;
